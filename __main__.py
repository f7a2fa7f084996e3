"""recipes: client -> nginx Ingress -> web-api (Service, pods) -> recipe-api (Service, pods), on Kubernetes.

Change a version or a replica count with `pulumi config set` and run `pulumi up`: a rolling update, or a scale.
"""

import os

import pulumi

from stack import cluster, images, ingress, network
from stack.settings import load_settings
from stack.workload import Workload, WorkloadArgs, in_cluster_url

WEB_API_PORT = 3000
RECIPE_API_PORT = 4000

settings = load_settings()
if problem := images.daemon_problem(settings.kube_context, settings.image_builder, os.environ):
    raise pulumi.RunError(problem)

# Where: the cluster (kubeconfig context) and our namespace in it.
k8s = cluster.provider(settings)
namespace = cluster.namespace(settings, k8s).metadata.name
in_cluster = pulumi.ResourceOptions(provider=k8s)

# What: both images, under references derived from their content, built into the Docker daemon that DOCKER_HOST
# names (minikube's, after `minikube docker-env`), or beforehand by scripts/build-images (imageBuilder external).
recipe_api_image = images.build(settings.recipe_api, settings.base_image, settings.image_builder)
web_api_image = images.build(settings.web_api, settings.base_image, settings.image_builder)

# The producer, then the consumer that calls it through its Service.
recipe_api = Workload(
    WorkloadArgs(settings.recipe_api, recipe_api_image, namespace, RECIPE_API_PORT, settings.rollout_timeout_seconds),
    opts=in_cluster,
)
web_api = Workload(
    WorkloadArgs(
        settings.web_api, web_api_image, namespace, WEB_API_PORT, settings.rollout_timeout_seconds,
        env={"RECIPE_API_URL": in_cluster_url(settings.recipe_api.name, namespace, settings.cluster_domain)},
    ),
    opts=pulumi.ResourceOptions(provider=k8s, depends_on=[recipe_api]),
)

# The way in, and who may talk to whom.
entry = ingress.route(settings.ingress_host, web_api, namespace, settings.rollout_timeout_seconds, in_cluster)
if settings.network_policies:
    network.policies(
        web_api=settings.web_api.name,
        recipe_api=settings.recipe_api.name,
        namespace=namespace,
        ingress_controller_namespace=settings.ingress_controller_namespace,
        opts=in_cluster,
    )

address = ingress.address(entry)
pulumi.export("url", f"http://{settings.ingress_host}/")
pulumi.export("ingressAddress", address)
pulumi.export("curlCommand", ingress.curl_command(settings.ingress_host, address))
pulumi.export("webApiImage", web_api_image.ref)
pulumi.export("recipeApiImage", recipe_api_image.ref)
pulumi.export("webApiVersion", settings.web_api.version)
pulumi.export("recipeApiVersion", settings.recipe_api.version)
pulumi.export("webApiReplicas", settings.web_api.replicas)
pulumi.export("recipeApiReplicas", settings.recipe_api.replicas)
pulumi.export("namespace", namespace)

"""A stand-in for Pulumi's Python language host (`pulumi-language-python`), for machines that cannot build the real one.

Why this exists: the real host is the Go module `github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3`,
and the Go module proxy our CI machines reach does not serve it at any version (the CLI's own modules, pkg/v3 and
sdk/v3, it does serve). Without a language host the real `pulumi` CLI cannot run a Python program at all. So this
file implements the same gRPC service (`pulumirpc.LanguageRuntime`, from the stubs the `pulumi` Python SDK ships)
with the same observable behaviour for what `pulumi preview/up/refresh/destroy` ask of it:

- it is launched by the CLI as `pulumi-language-python [flags] ENGINE_ADDRESS` and prints the port it listens on;
- `Run` executes the program exactly as the real host does: the project's virtualenv's python runs the
  `pulumi-language-python-exec` script from the SDK (installed next to the CLI), with the config in
  `PULUMI_CONFIG`/`PULUMI_CONFIG_SECRET_KEYS`; exit code 32 means "error already shown" (bail);
- `GetRequiredPackages` lists the resource plugins the installed Pulumi packages name (their `pulumi-plugin.json`),
  as the real host does, with one difference: a plugin that is not installed on this machine is left out and named
  on stderr, because here it could only fail to download. The engine then loads it lazily if a resource needs it:
  the semantics of the CLI's own `--skip-plugin-pre-install`, for that plugin only.
- `InstallDependencies` creates the virtualenv from requirements.txt when it is missing.

Only the methods above (and Handshake, GetPluginInfo, About, GetProgramDependencies, Cancel) are served; code
generation, packing and linking answer UNIMPLEMENTED, which the CLI reports as unsupported.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from concurrent import futures
from pathlib import Path

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

# The exit code with which pulumi-language-python-exec says it has already reported the error to the user.
BAIL_EXIT_CODE = 32
EXEC_SCRIPT = "pulumi-language-python-exec"
DEFAULT_VIRTUALENV = "venv"

# Runs inside the project's virtualenv: every installed distribution that ships a pulumi-plugin.json.
_LIST_PLUGINS = r"""
import json, importlib.metadata as metadata
found = []
for dist in metadata.distributions():
    for file in dist.files or ():
        if file.name == "pulumi-plugin.json":
            try:
                found.append(json.loads(file.read_text()))
            except (OSError, ValueError):
                pass
print(json.dumps(found))
"""


def _options(info: language_pb2.ProgramInfo) -> dict:
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(info.options) if info.HasField("options") else {}


def virtualenv_of(info: language_pb2.ProgramInfo) -> Path:
    """The project's virtualenv, from Pulumi.yaml's `runtime.options.virtualenv` (relative to the project root)."""
    venv = _options(info).get("virtualenv") or DEFAULT_VIRTUALENV
    path = Path(venv)
    return path if path.is_absolute() else Path(info.root_directory) / path


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def plugin_installed(name: str, version: str, pulumi_home: Path) -> bool:
    return (pulumi_home / "plugins" / f"resource-{name}-v{version}").is_dir()


def pulumi_home() -> Path:
    return Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine_address: str, exec_script: Path, version: str) -> None:
        self.engine_address = engine_address
        self.exec_script = exec_script
        self.version = version

    def Handshake(self, request, context):
        if request.engine_address:
            self.engine_address = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=self.version)

    def GetRequiredPlugins(self, request, context):
        return language_pb2.GetRequiredPluginsResponse(plugins=[
            plugin_pb2.PluginDependency(name=p.name, kind=p.kind, version=p.version, server=p.server)
            for p in self._required(request.info, context)
        ])

    def GetRequiredPackages(self, request, context):
        return language_pb2.GetRequiredPackagesResponse(packages=self._required(request.info, context))

    def _required(self, info, context) -> list[plugin_pb2.PackageDependency]:
        python = python_of(virtualenv_of(info))
        if not python.exists():
            context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                          f"the virtualenv {python.parent.parent} does not exist; create it with `make venv` "
                          "(or `pulumi install`)")
        listed = subprocess.run([str(python), "-c", _LIST_PLUGINS], capture_output=True, text=True, timeout=60,
                                stdin=subprocess.DEVNULL)
        if listed.returncode != 0:
            context.abort(grpc.StatusCode.INTERNAL, f"listing the installed Pulumi packages failed: {listed.stderr}")
        packages = []
        for plugin in json.loads(listed.stdout):
            if not plugin.get("resource") or not plugin.get("name"):
                continue
            name, version = plugin["name"], plugin.get("version", "")
            if version and not plugin_installed(name, version, pulumi_home()):
                print(f"language host: the {name} plugin {version} is not installed on this machine; it is not "
                      "pre-installed, and a resource that needs it will fail to load", file=sys.stderr, flush=True)
                continue
            packages.append(plugin_pb2.PackageDependency(
                name=name, kind="resource", version=version, server=plugin.get("server", "")))
        return packages

    def InstallDependencies(self, request, context):
        venv = virtualenv_of(request.info)
        if python_of(venv).exists():
            return
        requirements = Path(request.info.root_directory) / "requirements.txt"
        for argv in ([sys.executable, "-m", "venv", str(venv)],
                     [str(python_of(venv)), "-m", "pip", "install", "-r", str(requirements)]):
            done = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL)
            yield language_pb2.InstallDependenciesResponse(stdout=done.stdout, stderr=done.stderr)
            if done.returncode != 0:
                context.abort(grpc.StatusCode.INTERNAL, f"'{' '.join(argv)}' failed with {done.returncode}")

    def RuntimeOptionsPrompts(self, request, context):
        return language_pb2.RuntimeOptionsResponse()

    def About(self, request, context):
        python = python_of(virtualenv_of(request.info))
        version = subprocess.run([str(python), "-c", "import platform; print(platform.python_version())"],
                                 capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        return language_pb2.AboutResponse(executable=str(python), version=version.stdout.strip())

    def GetProgramDependencies(self, request, context):
        python = python_of(virtualenv_of(request.info))
        listed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], capture_output=True,
                                text=True, timeout=60, stdin=subprocess.DEVNULL)
        dependencies = json.loads(listed.stdout) if listed.returncode == 0 else []
        return language_pb2.GetProgramDependenciesResponse(dependencies=[
            language_pb2.DependencyInfo(name=item["name"], version=item["version"]) for item in dependencies])

    def Run(self, request, context):
        info = request.info
        venv = virtualenv_of(info)
        python = python_of(venv)
        if not python.exists():
            return language_pb2.RunResponse(
                error=f"the virtualenv {venv} does not exist; create it with `make venv` (or `pulumi install`)")
        argv = [str(python), "-u", str(self.exec_script),
                "--project", request.project, "--stack", request.stack, "--pwd", request.pwd,
                "--root_directory", info.root_directory or request.pwd,
                "--dry_run", "true" if request.dryRun else "false", "--parallel", str(request.parallel),
                "--monitor", request.monitor_address, "--engine", self.engine_address,
                "--organization", request.organization,
                info.entry_point or request.program or ".", *request.args]
        env = {
            **os.environ,
            "PULUMI_CONFIG": json.dumps(dict(request.config)),
            "PULUMI_CONFIG_SECRET_KEYS": json.dumps(list(request.configSecretKeys)),
            "VIRTUAL_ENV": str(venv),
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        env.pop("PYTHONHOME", None)
        code = subprocess.run(argv, cwd=request.pwd or None, env=env, stdin=subprocess.DEVNULL).returncode
        if code == 0:
            return language_pb2.RunResponse()
        if code == BAIL_EXIT_CODE:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"Program exited with non-zero exit code: {code}")

    def Cancel(self, request, context):
        return empty_pb2.Empty()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # The CLI passes Go-style flags (`-tracing=...`, `-v=9`) before the engine's address, which comes last; the
    # flags this stand-in needs arrive over gRPC instead (ProgramInfo), so only the address is read here.
    positional = [arg for arg in argv if not arg.startswith("-")]
    engine_address = positional[-1] if positional else ""
    exec_script = Path(os.environ.get("PULUMI_LANGUAGE_PYTHON_EXEC")
                       or Path(sys.argv[0]).resolve().parent / EXEC_SCRIPT)
    version = os.environ.get("PULUMI_LANGUAGE_HOST_VERSION", "")

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8),
                         options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)])
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(
        LanguageHost(engine_address, exec_script, version), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)

    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    server.stop(grace=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

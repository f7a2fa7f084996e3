'use strict';
// The consumer: GET / calls recipe-api's /recipes/42 over a keep-alive agent and returns both services' data.
const http = require('http');
const fastify = require('fastify');
const fetch = require('node-fetch');
const { readConfig, serve } = require('./lifecycle');

const config = readConfig(3000);
const recipeApiUrl = (process.env.RECIPE_API_URL || 'http://127.0.0.1:4000').replace(/\/+$/, '');
if (!/^http:\/\/[^/]+$/.test(recipeApiUrl)) {
  config.fail(`RECIPE_API_URL must look like http://host:port, got ${JSON.stringify(recipeApiUrl)}`);
}
const timeoutSeconds = Number(process.env.RECIPE_API_TIMEOUT_SECONDS || 2);
if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
  config.fail(`RECIPE_API_TIMEOUT_SECONDS must be a number > 0, got ${JSON.stringify(process.env.RECIPE_API_TIMEOUT_SECONDS)}`);
}

const agent = new http.Agent({ keepAlive: true });
const app = fastify({ logger: false });

app.get('/', async (request, reply) => {
  let answer;
  try {
    answer = await fetch(`${recipeApiUrl}/recipes/42`, { agent, timeout: timeoutSeconds * 1000 });
  } catch (error) {
    if (error.type === 'request-timeout') {
      reply.code(504);
      return { error: 'recipe_api_timeout', detail: `recipe-api did not answer within ${timeoutSeconds}s` };
    }
    reply.code(503);
    return { error: 'recipe_api_unreachable', detail: `recipe-api is unreachable: ${error.message}` };
  }
  if (answer.status !== 200) {
    reply.code(502);
    return { error: 'recipe_api_bad_answer', detail: `recipe-api answered HTTP ${answer.status}` };
  }
  let producerData;
  try {
    producerData = await answer.json();
  } catch (error) {
    if (error.type === 'body-timeout') {
      reply.code(504);
      return { error: 'recipe_api_timeout', detail: `recipe-api did not finish its answer within ${timeoutSeconds}s` };
    }
    reply.code(502);
    return { error: 'recipe_api_bad_answer', detail: `recipe-api answered invalid JSON: ${error.message}` };
  }
  return { consumer_pid: process.pid, consumer_version: config.version, producer_data: producerData };
});

serve(app, config);

'use strict';
// What both Node services share: the env contract (HOST, PORT, APP_VERSION, SHUTDOWN_DELAY_SECONDS),
// /health and /ready, and a SIGTERM drain that turns /ready to 503 before the server closes.

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(2);
}

function readConfig(defaultPort) {
  const port = Number(process.env.PORT || defaultPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    fail(`PORT must be an integer from 1 to 65535, got ${JSON.stringify(process.env.PORT)}`);
  }
  const shutdownDelaySeconds = Number(process.env.SHUTDOWN_DELAY_SECONDS || 0);
  if (!Number.isFinite(shutdownDelaySeconds) || shutdownDelaySeconds < 0) {
    fail(`SHUTDOWN_DELAY_SECONDS must be a number >= 0, got ${JSON.stringify(process.env.SHUTDOWN_DELAY_SECONDS)}`);
  }
  return {
    host: process.env.HOST || '127.0.0.1',
    port,
    version: process.env.APP_VERSION || 'dev',
    shutdownDelaySeconds,
    fail,
  };
}

function addProbes(app, state) {
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (request, reply) => {
    if (state.shuttingDown) {
      reply.code(503);
      return { status: 'shutting_down' };
    }
    return { status: 'ready' };
  });
}

async function serve(app, config) {
  const state = { shuttingDown: false };
  addProbes(app, state);
  const stop = () => {
    if (state.shuttingDown) return;
    state.shuttingDown = true;
    setTimeout(() => app.close().then(() => process.exit(0)), config.shutdownDelaySeconds * 1000);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await app.listen(config.port, config.host);
  } catch (error) {
    fail(`cannot listen on ${config.host}:${config.port}: ${error.message}`);
  }
}

module.exports = { readConfig, serve };

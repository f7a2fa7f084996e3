'use strict';
// The producer: GET /recipes/:id, the same body and errors as apps/recipe-api.
const fastify = require('fastify');
const { readConfig, serve } = require('./lifecycle');

const config = readConfig(4000);
const app = fastify({ logger: false });

const RECIPE = {
  id: 42,
  name: 'Chicken Tikka Masala',
  steps: 'Throw it in a pot...',
  ingredients: [
    { id: 1, name: 'Chicken', quantity: '1 lb' },
    { id: 2, name: 'Sauce', quantity: '2 cups' },
  ],
};

// Like apps/recipe-api: 400 for an id that is not an integer of at most 18 digits, 404 for an unknown one.
const INTEGER = /^-?[0-9]+$/;
const MAX_ID_DIGITS = 18;

app.get('/recipes/:id', async (request, reply) => {
  const raw = request.params.id;
  if (!INTEGER.test(raw)) {
    reply.code(400);
    return { error: 'invalid_id', detail: 'the recipe id must be an integer', id: raw.slice(0, 40) };
  }
  if (raw.replace(/^-/, '').length > MAX_ID_DIGITS) {
    reply.code(400);
    return { error: 'invalid_id', detail: `the recipe id has more than ${MAX_ID_DIGITS} digits`, id: raw.slice(0, 40) };
  }
  if (Number(raw) !== RECIPE.id) {
    reply.code(404);
    return { error: 'not_found' };
  }
  return { producer_pid: process.pid, producer_version: config.version, recipe: RECIPE };
});

serve(app, config);

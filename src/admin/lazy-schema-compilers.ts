import ValidatorSelector from '@fastify/ajv-compiler';
import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

/**
 * Fastify's own schema compilers (ajv for what a request carries, fast-json-stringify for what a route answers),
 * each route's compiled on its first request instead of when the route is registered. Registering compiled every
 * route's schemas at every start, about 150 ms of the main thread's CPU (docs/performance.md), for routes most
 * starts never serve. What a request sees is the same: the same compilers with the same options, and a schema
 * fastify would refuse to compile fails that route's first request with a 500 instead of failing the start; the
 * admin tests call every route, and scripts/openapi.ts checks every schema.
 *
 * Fastify treats compilers given this way as custom and hands them header schemas as written, without lowering
 * their keys; the routes' header schemas name their headers in lower case.
 */
type RouteDefinition = { schema: unknown; method: string; url: string; httpPart?: string };
type Validate = ((data: unknown) => unknown) & { errors?: unknown };

const lazy = {
  buildValidator(externalSchemas: unknown, options: unknown): (route: RouteDefinition) => Validate {
    const compile = (ValidatorSelector() as unknown as (s: unknown, o: unknown) => (r: RouteDefinition) => Validate)(externalSchemas, options);
    return (route) => {
      let inner: Validate | undefined;
      const validate: Validate = (data) => {
        inner ??= compile(route);
        const result = inner(data);
        // Fastify reads a failed validation's reasons from the function it was given.
        validate.errors = inner.errors;
        return result;
      };
      return validate;
    };
  },
  buildSerializer(externalSchemas: unknown, options: unknown): (route: RouteDefinition) => (doc: unknown) => string {
    const compile = (SerializerSelector() as unknown as (s: unknown, o: unknown) => (r: RouteDefinition) => (doc: unknown) => string)(externalSchemas, options);
    return (route) => {
      let inner: ((doc: unknown) => string) | undefined;
      return (doc) => (inner ??= compile(route))(doc);
    };
  },
};

export const lazySchemaCompilers = lazy as unknown as CompilersFactory;

// HTTP API resources that modules add (trunks, routes, queues...): a small
// protocol-neutral table, like the command table, that the console module
// serves under /api/v1 with its authentication, roles, CSRF checks, change
// log and OpenAPI document. A module registers its resources in start();
// the console, listed last among the modules, serves every resource
// registered before it starts and refuses later ones (docs/architecture.md,
// "HTTP API resources of a module").

/** who may call a resource: the roles of docs/operations.md, "Web console and API" */
export type ApiRole = 'admin' | 'operator' | 'auditor';

/** a JSON Schema (TypeBox builds them); validates the body or query, and documents the route */
export type ApiSchema = object;

export interface ApiRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  /** the account or token name acting, for the module's own records */
  actor: string;
}

export interface ApiChange {
  /** what was done, e.g. "trunk.create" */
  action: string;
  /** the object it was done to, e.g. the trunk's name */
  target: string;
  before?: unknown;
  after?: unknown;
}

export interface ApiResult {
  /** HTTP status, 200 by default */
  status?: number;
  body: unknown;
  /** written to the change log (who, when, from where are the console's) */
  change?: ApiChange;
  /** a body that is not JSON (text/csv); body is then a string */
  contentType?: string;
  /** e.g. Content-Disposition for a download */
  headers?: Record<string, string>;
}

export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** under /api/v1, fastify's form: "/trunks/:name" */
  path: string;
  /** the roles allowed; a method other than GET must never list 'auditor' */
  roles: readonly ApiRole[];
  summary: string;
  tag: string;
  body?: ApiSchema;
  query?: ApiSchema;
  /** the answer's schema by status (documents it; fastify serializes with it) */
  response?: Record<number, ApiSchema>;
  params?: ApiSchema;
  handle(req: ApiRequest): Promise<ApiResult> | ApiResult;
}

/** the table modules register into */
export class ApiRoutes {
  private readonly routes: ApiRoute[] = [];
  private sealedBy: string | null = null;

  add(route: ApiRoute, owner = 'core'): void {
    if (this.sealedBy)
      throw new Error(
        `HTTP API route ${route.method} ${route.path} of ${owner} came after ${this.sealedBy} started serving; register routes in start() of a module listed before it`,
      );
    if (route.method !== 'GET' && route.roles.includes('auditor')) throw new Error(`HTTP API route ${route.method} ${route.path} of ${owner}: the auditor role is read-only`);
    if (this.routes.some((r) => r.method === route.method && r.path === route.path))
      throw new Error(`HTTP API route ${route.method} ${route.path} of ${owner} is registered already`);
    this.routes.push(route);
  }

  /** the routes to serve; no route may be added afterwards */
  seal(by: string): readonly ApiRoute[] {
    this.sealedBy = by;
    return this.routes;
  }

  list(): readonly ApiRoute[] {
    return this.routes;
  }
}

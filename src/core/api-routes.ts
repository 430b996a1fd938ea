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

/**
 * The table modules register into. A module registers either routes or a
 * loader of its routes (addLazy): the schema library and the handlers are
 * then loaded only when the HTTP API is served, so a server without an
 * `http:` section does not carry them in memory.
 */
export class ApiRoutes {
  private readonly routes: ApiRoute[] = [];
  private readonly loaders: Array<{ load: () => Promise<readonly ApiRoute[]>; owner: string }> = [];
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

  /** routes made when the API is served (their module, and its schemas, loaded then) */
  addLazy(load: () => Promise<readonly ApiRoute[]>, owner = 'core'): void {
    if (this.sealedBy) throw new Error(`HTTP API routes of ${owner} came after ${this.sealedBy} started serving; register routes in start() of a module listed before it`);
    this.loaders.push({ load, owner });
  }

  /** no route may be added from now on; the routes registered directly (the loaders' are not made) */
  seal(by: string): readonly ApiRoute[] {
    this.sealedBy = by;
    return this.routes;
  }

  /** the routes to serve, the loaders' made now (once); no route may be added afterwards */
  async load(by: string): Promise<readonly ApiRoute[]> {
    this.sealedBy = null;
    const loaders = this.loaders.splice(0);
    for (const l of loaders) for (const route of await l.load()) this.add(route, l.owner);
    this.sealedBy = by;
    return this.routes;
  }

  list(): readonly ApiRoute[] {
    return this.routes;
  }
}

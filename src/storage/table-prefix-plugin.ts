// Prefixes every table name in Kysely queries, so several Palisade instances
// (or parallel test runs) can share one database. `excluded` is the
// pseudo-table of an upsert (ON CONFLICT ... DO UPDATE SET x = excluded.x)
// and must keep its name.
import {
  IdentifierNode,
  OperationNodeTransformer,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type TableNode,
  type UnknownRow,
} from 'kysely';

class PrefixTransformer extends OperationNodeTransformer {
  constructor(private readonly prefix: string) {
    super();
  }

  protected override transformTable(node: TableNode): TableNode {
    const t = super.transformTable(node);
    const name = t.table.identifier.name;
    if (name === 'excluded' || name.startsWith(this.prefix)) return t;
    return { ...t, table: { ...t.table, identifier: IdentifierNode.create(this.prefix + name) } };
  }
}

export class TablePrefixPlugin implements KyselyPlugin {
  private readonly transformer: PrefixTransformer;
  constructor(prefix: string) {
    this.transformer = new PrefixTransformer(prefix);
  }
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.transformer.transformNode(args.node, args.queryId);
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

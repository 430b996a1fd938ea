// The import rules of docs/architecture.md ("Layers"), checked by
// `npm run depcheck`. Each folder of src/ has a rank; a module may import
// from its own rank and lower ranks only, and no two folders may import each
// other, directly or round a longer circle (a cycle inside one folder, such as
// sip/transaction's state machines, is allowed). Only src/ is checked; unit
// tests beside the code and their support files are left out. Type-only
// imports count like any other.

/** rank → the folders (or files) of src/ at that rank, as regular expressions */
const LAYERS = [
  { rank: 0, name: 'core', paths: ['^src/core/', '^src/observability/'] },
  { rank: 1, name: 'message-media-mail-admin', paths: ['^src/sip-message/', '^src/media/', '^src/mail/', '^src/admin/'] },
  { rank: 2, name: 'transport', paths: ['^src/transport/'] },
  { rank: 3, name: 'config-storage', paths: ['^src/config/', '^src/storage/'] },
  { rank: 4, name: 'sip-iax2', paths: ['^src/sip/', '^src/iax2/'] },
  { rank: 5, name: 'security', paths: ['^src/security/'] },
  { rank: 6, name: 'channel', paths: ['^src/channel/'] },
  { rank: 7, name: 'dialplan', paths: ['^src/dialplan/'] },
  { rank: 8, name: 'features', paths: ['^src/features/'] },
  { rank: 9, name: 'host-main', paths: ['^src/host/', '^src/main\\.ts$'] },
  { rank: 10, name: 'cli', paths: ['^src/cli/'] },
];

const TESTS = '\\.test\\.ts$|\\.test-support\\.ts$|\\.test-data\\.ts$';

const upward = LAYERS.filter((l) => LAYERS.some((h) => h.rank > l.rank)).map((layer) => ({
  name: `rank-${layer.rank}-${layer.name}-imports-upward`,
  severity: 'error',
  comment: `${layer.paths.join(' ')} (rank ${layer.rank}) may import only from rank ${layer.rank} and below; a lower layer that needs a higher one takes an interface from core/ or a callback (docs/architecture.md, Layers)`,
  from: { path: layer.paths },
  to: { path: LAYERS.filter((h) => h.rank > layer.rank).flatMap((h) => h.paths) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'folder-without-rank',
      severity: 'error',
      comment: 'every folder of src/ has a rank in docs/architecture.md and in LAYERS above; add the new one to both',
      from: { path: '^src/', pathNot: LAYERS.flatMap((l) => l.paths) },
      to: {},
    },
    {
      name: 'no-cycle-between-folders',
      severity: 'error',
      comment: 'two folders import each other (directly or round a longer circle); cycles inside one folder are fine (docs/architecture.md, Layers)',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    includeOnly: '^src/',
    exclude: { path: TESTS },
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6'],
    reporterOptions: { text: { highlightFocused: true } },
  },
};

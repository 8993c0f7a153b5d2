// The settings every PGlite cluster of the platform is opened with (open-database.ts), also part
// of the name of the prepared cluster (prepared-cluster.ts) and of the tests' snapshots' keys.
export const pgliteSettings = {
  // Small buffers keep the embedded platform within its memory budget (docs/benchmarks.md);
  // 128 MiB is the smallest memory the build accepts.
  postgresqlconf: ['shared_buffers=16MB', 'work_mem=4MB', 'maintenance_work_mem=16MB'],
  initialMemory: 128 * 1024 * 1024,
};

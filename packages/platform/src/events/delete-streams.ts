// Removes JetStream streams a test or benchmark made for itself (each run has its own stream), so
// the machine's NATS does not collect them. A stream already gone is not an error.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

export async function deleteStreams(natsUrl: string, names: readonly string[]): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of names) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}

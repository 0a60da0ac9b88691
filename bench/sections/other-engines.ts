/** Docker and Podman themselves, where they are installed, for scale. */
import { installed, table, type Case } from '../measure.js';

export async function otherEnginesSection(): Promise<void> {
  const others: Case[] = [];
  if (installed('dockerd') && installed('docker')) {
    others.push({ label: 'docker run (dockerd)', argv: ['docker', 'run', '--rm', '--network', 'none', 'busybox', 'true'], env: { ...process.env, DOCKER_HOST: '' } });
  } else {
    console.log('\ndockerd is not installed here: no Docker figures');
  }
  if (installed('podman')) {
    others.push({ label: 'podman run', argv: ['podman', 'run', '--rm', '--network', 'none', 'busybox', 'true'] });
  } else {
    console.log('podman is not installed here: no Podman figures');
  }
  if (others.length > 0) await table('Other engines', others, process.env, false);
}

import type { Duplex } from 'node:stream';
import type { ContainerService } from '../../engine/containers/service.js';
import type { AttachClient } from '../../engine/containers/attach-hub.js';
import type { UpgradeContext } from '../router.js';
import { frame, outputContentType, streamNumber } from '../stream-framing.js';

// conmon's attach socket is never paused (runtime/attach-socket.ts), so output a client does not
// read piles up in its socket's buffer; a client this far behind is disconnected instead.
const MAX_UNREAD_OUTPUT = 8 << 20;

/**
 * POST /containers/{id}/attach with `Upgrade: tcp`: answer 101 and use the raw connection.
 * Output goes out framed (or raw with a TTY); stdin comes in raw, and the client's half-close
 * is its EOF (closing the container's stdin when StdinOnce, as moby does).
 */
export async function hijackAttach(ctx: UpgradeContext, containers: ContainerService): Promise<void> {
  const { socket, query, params, version } = ctx;
  const record = containers.inspect(params.id);
  const tty = record.config.Tty;
  socket.write(
    'HTTP/1.1 101 UPGRADED\r\n' +
      `Content-Type: ${outputContentType(tty, version)}\r\n` +
      'Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
  );
  const client: AttachClient = {
    stdout: query.bool('stdout'),
    stderr: query.bool('stderr'),
    write: (stream, chunk) => {
      if (socket.destroyed) return;
      if (socket.writableLength > MAX_UNREAD_OUTPUT) socket.destroy();
      else socket.write(tty ? chunk : frame(streamNumber(stream), chunk));
    },
    end: () => socket.end(),
  };
  if (!query.bool('stream')) {
    socket.end();
    return;
  }
  let attached;
  try {
    attached = await containers.attach(params.id, client);
  } catch {
    // After the 101 no HTTP error can be sent; most likely the container exited meanwhile.
    socket.end();
    return;
  }
  const { hub, detach } = attached;
  if (socket.destroyed) detach(); // gone while attaching: 'close' has been and gone
  else socket.once('close', detach);
  if (query.bool('stdin') && record.config.OpenStdin) {
    // Bytes the client sent right behind its request arrive here, not as socket data.
    if (ctx.head.length > 0) hub.writeStdin(ctx.head).catch(() => socket.destroy());
    pumpStdin(socket, (chunk) => hub.writeStdin(chunk), () => {
      if (record.config.StdinOnce && !tty) hub.closeStdin();
    });
  } else {
    socket.resume(); // ignore anything sent; the half-close that follows is expected
  }
}

function pumpStdin(socket: Duplex, write: (chunk: Buffer) => Promise<void>, onEnd: () => void): void {
  socket.on('data', (chunk: Buffer) => {
    const accepted = write(chunk);
    socket.pause();
    accepted.then(() => socket.resume(), () => socket.destroy());
  });
  socket.once('end', onEnd);
}

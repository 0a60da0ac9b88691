import { Command } from 'commander';
import { API_VERSION } from '../../client/index.js';
import type { VersionResponse } from '../../client/index.js';
import type { CliContext } from '../context.js';
import { executeTemplate, parseTemplate } from '../format/go-template.js';

export const CLIENT_VERSION = '0.1.0';

export function versionCommand(ctx: CliContext): Command {
  return new Command('version')
    .description('Show the Berth version information')
    .option('-f, --format <format>', "Format output using a Go template ('json', '{{.Server.Version}}')")
    .action(async (flags: { format?: string }) => {
      if (flags.format !== undefined) await printFormatted(ctx, flags.format);
      else await printSections(ctx);
    });
}

async function printSections(ctx: CliContext): Promise<void> {
  ctx.stdout.write(clientSection());
    // As docker: the client section prints even when the daemon cannot be reached.
    const server = await ctx.client().version().catch((err: unknown) => err);
    if (server instanceof Error) {
      ctx.stdout.write('\n');
      throw server;
    }
    ctx.stdout.write(`\n${serverSection(server as VersionResponse)}`);
}

/**
 * `version --format`: the template runs over docker's {Client, Server} (Server null when the daemon
 * cannot be reached; its error is then what the command reports, as docker's).
 */
async function printFormatted(ctx: CliContext, format: string): Promise<void> {
  const template = parseTemplate(format === 'json' ? '{{json .}}' : format);
  const server = await ctx.client().version().catch((err: unknown) => err);
  const reached = !(server instanceof Error);
  let text: string | undefined;
  try {
    text = executeTemplate(template, { Client: clientVersion(), Server: reached ? serverVersion(server as VersionResponse) : null });
  } catch (err) {
    if (reached) throw err;
  }
  if (text !== undefined) ctx.stdout.write(`${text}\n`);
  if (!reached) throw server;
}

/**
 * docker's version data as its templates see it: Go's field names (`.Server.APIVersion`), while
 * `{{json}}` writes the names of the wire (`"ApiVersion"`), empty optional fields left out.
 */
function goNamed(wire: Record<string, unknown>, goOnly: Record<string, unknown> = {}): Record<string, unknown> {
  const { ApiVersion, ...rest } = wire;
  const json = Object.fromEntries(Object.entries(wire).filter(([key, value]) => !(key === 'BuildTime' && value === '')));
  return Object.defineProperty({ ...rest, APIVersion: ApiVersion, ...goOnly }, 'toJSON', { value: () => json });
}

/** The client's half of docker's version data. */
function clientVersion() {
  return goNamed({
    Version: CLIENT_VERSION,
    ApiVersion: API_VERSION,
    DefaultAPIVersion: API_VERSION,
    GitCommit: '',
    // The field docker fills with its Go version; berthd's answer does the same with node's.
    GoVersion: process.version,
    Os: process.platform,
    Arch: goArch(),
    BuildTime: '',
    Context: 'default',
  });
}

/** The daemon's half; Experimental is a field of docker's struct that the wire leaves out when false. */
const serverVersion = (version: VersionResponse) => goNamed({ ...version }, { Experimental: false });

const goArch = () => (process.arch === 'x64' ? 'amd64' : process.arch);

/** "Key:" padded so values line up, as docker's version template does. */
const field = (indent: string, key: string, value: string, width: number) =>
  `${indent}${`${key}:`.padEnd(width)}${value}\n`;

function clientSection(): string {
  return (
    'Client:\n' +
    field(' ', 'Version', CLIENT_VERSION, 19) +
    field(' ', 'API version', API_VERSION, 19) +
    field(' ', 'Node version', process.version, 19) +
    field(' ', 'OS/Arch', `${process.platform}/${goArch()}`, 19)
  );
}

export function serverSection(version: VersionResponse): string {
  const platform = version.Platform?.Name ? ` ${version.Platform.Name}` : '';
  const components = version.Components ?? [
    { Name: 'Engine', Version: version.Version, Details: { ApiVersion: version.ApiVersion } },
  ];
  let text = `Server:${platform}\n`;
  for (const component of components) {
    text += ` ${component.Name}:\n` + field('  ', 'Version', component.Version, 18);
    if (component.Name === 'Engine') {
      const minimum = version.MinAPIVersion ? ` (minimum version ${version.MinAPIVersion})` : '';
      text += field('  ', 'API version', `${version.ApiVersion}${minimum}`, 18);
      if (version.GitCommit) text += field('  ', 'Git commit', version.GitCommit, 18);
      text += field('  ', 'OS/Arch', `${version.Os}/${version.Arch}`, 18);
    } else if (component.Details?.GitCommit) {
      text += field('  ', 'GitCommit', component.Details.GitCommit, 18);
    }
  }
  return text;
}


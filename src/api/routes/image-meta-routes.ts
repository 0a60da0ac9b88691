/** diff, commit and history: GET /containers/{id}/changes, POST /commit, GET /images/{name}/history. */
import type { ContainerService } from '../../engine/containers/service.js';
import type { CommitService } from '../../engine/images/commit-service.js';
import type { ContainerConfigFields } from '../../engine/images/image-config.js';
import type { ImageService } from '../../engine/images/image-service.js';
import { invalidParameter } from '../../common/errors.js';
import { goJsonText } from '../../common/byte-path.js';
import type { CommitResponse, ContainerChangeResponseItem, HistoryResponseItem } from '../../wire/image-meta.js';
import type { Handler, RouteTable } from '../router.js';
import { readOptionalJson, sendJson } from '../http.js';

const CHANGE_KINDS = { C: 0, A: 1, D: 2 } as const;

/** The container-config fields a commit's body may set (the rest of a container config means nothing to an image). */
const COMMIT_CONFIG_FIELDS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'OnBuild', 'Healthcheck'];

function commitConfig(body: Record<string, unknown> | undefined): ContainerConfigFields | undefined {
  if (body === undefined) return undefined;
  const config: Record<string, unknown> = {};
  for (const field of COMMIT_CONFIG_FIELDS) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    const wantsArray = ['Env', 'Entrypoint', 'Cmd', 'OnBuild'].includes(field);
    const wantsString = ['User', 'WorkingDir', 'StopSignal'].includes(field);
    if (wantsArray ? !Array.isArray(value) : wantsString ? typeof value !== 'string' : typeof value !== 'object') {
      throw invalidParameter(`json: cannot unmarshal ${typeof value} into Go struct field Config.${field}`);
    }
    config[field] = value;
  }
  return config as ContainerConfigFields;
}

export function imageMetaRoutes(routes: RouteTable<Handler>, containers: ContainerService, images: ImageService, commits: CommitService): void {
  routes.add('GET', '/containers/{id}/changes', async ({ res, params }) => {
    const changes = await containers.changes(params.id);
    // moby answers null for a container that changed nothing; a name's bytes that are not UTF-8
    // come out as Go's encoding/json writes them.
    const body: ContainerChangeResponseItem[] | null =
      changes.length > 0 ? changes.map(({ path, kind }) => ({ Path: goJsonText(path), Kind: CHANGE_KINDS[kind] })) : null;
    sendJson(res, 200, body);
  });

  routes.add('POST', '/commit', async ({ req, res, query }) => {
    const image = await commits.commit({
      container: query.string('container') ?? '',
      repo: query.string('repo') || undefined,
      tag: query.string('tag') || undefined,
      author: query.string('author') || undefined,
      comment: query.string('comment') || undefined,
      changes: query.all('changes'),
      // Paused unless asked not to (the default since API 1.13, older than any berthd serves).
      pause: query.bool('pause', true),
      config: commitConfig(await readOptionalJson(req)),
    });
    sendJson(res, 201, { Id: image.id } satisfies CommitResponse);
  });

  routes.add('GET', '/images/{name:.*}/history', async ({ res, params }) => {
    const body: HistoryResponseItem[] = images.history(params.name).map((item) => ({
      Id: item.id,
      Created: item.created,
      CreatedBy: item.createdBy,
      Tags: item.tags.length > 0 ? item.tags : null,
      Size: item.size,
      Comment: item.comment,
    }));
    sendJson(res, 200, body);
  });
}

/**
 * A stand-in for the Microsoft Graph endpoints Quorum uses for files shared in Teams channels, on
 * 127.0.0.1: a channel's files folder, and a drive item looked up by its sharing address
 * (`/shares/u!…/driveItem`), answered only with the expected app token. Drives and paths are
 * shaped as Graph shapes them; the item's pre-authorised download link points wherever the test
 * serves its bytes (the fake Bot Connector, without a token).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Folder {
  driveId: string;
  /** The channel's folder name below the drive's root (a standard channel's is its display name). */
  name: string;
}

interface Item {
  name: string;
  size: number;
  mimeType: string;
  driveId: string;
  /** Below the drive's root, e.g. `/General`. */
  parent: string;
  downloadUrl: string;
}

export class FakeGraph {
  readonly requests: { path: string; authorization: string | undefined }[] = [];
  private readonly folders = new Map<string, Folder>();
  private readonly items = new Map<string, Item>();
  private server: Server | null = null;
  url = '';

  constructor(readonly token: string) {}

  /** A team's channel and the folder its files live in. */
  channel(groupId: string, channelId: string, folder: Folder): this {
    this.folders.set(`${groupId}|${channelId}`, folder);
    return this;
  }

  /** A file at `sharingUrl` (what Teams sends as the attachment's contentUrl). */
  file(sharingUrl: string, item: Item): this {
    this.items.set(sharingUrl, item);
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      this.requests.push({ path, authorization: req.headers.authorization });
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.headers.authorization !== `Bearer ${this.token}`) return json(401, { error: { code: 'InvalidAuthenticationToken' } });
      const folder = /^\/v1\.0\/teams\/([^/]+)\/channels\/([^/]+)\/filesFolder$/.exec(path);
      if (folder) {
        const f = this.folders.get(`${folder[1]}|${folder[2]}`);
        if (!f) return json(404, { error: { code: 'NotFound' } });
        return json(200, { id: `folder-${f.name}`, name: f.name, folder: { childCount: 1 }, parentReference: { driveId: f.driveId, driveType: 'documentLibrary', path: `/drives/${f.driveId}/root:` } });
      }
      const share = /^\/v1\.0\/shares\/u!([A-Za-z0-9_-]+)\/driveItem$/.exec(path);
      if (share) {
        const item = this.items.get(Buffer.from(share[1]!, 'base64url').toString('utf8'));
        if (!item) return json(404, { error: { code: 'itemNotFound' } });
        return json(200, {
          id: `item-${item.name}`,
          name: item.name,
          size: item.size,
          file: { mimeType: item.mimeType },
          parentReference: { driveId: item.driveId, path: `/drives/${item.driveId}/root:${encodeURI(item.parent)}` },
          '@microsoft.graph.downloadUrl': item.downloadUrl,
        });
      }
      json(404, { error: { code: 'NotFound' } });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1.0`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

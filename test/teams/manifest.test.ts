import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { buildPackage } from '../../adapters/teams/manifest/package.js';

describe('Teams app package', () => {
  it('holds the manifest with the app id, the /agent command list and both icons', async () => {
    const appId = '7c4e2a9b-1d3f-4b6a-8e5c-9f2d1a3b5c7e';
    const zip = await JSZip.loadAsync(await buildPackage(appId));
    expect(Object.keys(zip.files).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string'));
    expect(manifest.id).toBe(appId);
    expect(manifest.bots[0].botId).toBe(appId);
    expect(manifest.bots[0].commandLists[0].commands.map((c: { title: string }) => c.title)).toContain('/agent help');
    const color = await zip.file('color.png')!.async('nodebuffer');
    expect(color.subarray(1, 4).toString()).toBe('PNG');
    expect(color.readUInt32BE(16)).toBe(192);
  });

  it('refuses an app id that is not a GUID', async () => {
    await expect(buildPackage('not-an-id')).rejects.toThrow();
  });
});

/**
 * Files to one user privately (PlatformPorts.sendFile): conversations.open (im:write) finds the
 * bot's DM with them, files.getUploadURLExternal (files:write) gives a pre-signed upload URL that
 * takes the bytes without a token, files.completeUploadExternal shares the file into that DM.
 * Errors carry Slack's error code, never the file or a token.
 */
import type { webApi } from '@slack/bolt';
import type { WorkspaceRef } from '../../src/core/envelope.js';
import { QuorumError } from '../../src/core/errors.js';
import type { OutgoingFile, PlatformPorts } from '../../src/core/ports.js';
import { slackError } from './history.js';
import { openDm } from './notify.js';
import type { TokenSource } from './tokens.js';

export function createSendFile(options: { client: webApi.WebClient; tokens: TokenSource }): NonNullable<PlatformPorts['sendFile']> {
  const { client, tokens } = options;
  return async (workspace: WorkspaceRef, userId: string, file: OutgoingFile) => {
    let step = 'conversations.open';
    try {
      const { token } = await tokens.forWorkspace(workspace);
      const channel = await openDm(client, token, userId);
      const bytes = Buffer.from(file.content, 'utf8');
      step = 'files.getUploadURLExternal';
      const slot = await client.files.getUploadURLExternal({ token, filename: file.name, length: bytes.length });
      if (!slot.upload_url || !slot.file_id) throw new Error('no upload URL in the answer');
      step = 'file upload';
      const uploaded = await fetch(slot.upload_url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
      if (!uploaded.ok) throw new Error(`HTTP ${uploaded.status}`);
      step = 'files.completeUploadExternal';
      await client.files.completeUploadExternal({ token, files: [{ id: slot.file_id, title: file.title }], channel_id: channel });
      return { kind: 'sent' as const };
    } catch (err) {
      throw new QuorumError('REPLY_FAILED', `Slack ${step} failed: ${slackError(err)}`, { cause: err });
    }
  };
}

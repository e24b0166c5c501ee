/**
 * OAuth installs (many workspaces) served from Quorum's own HTTP server, over HTTP and Socket
 * Mode alike. Bolt's receivers would each run the install flow themselves, and Socket Mode's opens
 * a second HTTP server for it on port 3000 (Quorum's default PORT): one InstallProvider here
 * instead, its routes mounted beside /slack/events, its authorize given to the App.
 */
import type { Authorize, Logger as BoltLogger } from '@slack/bolt';
import { InstallProvider, type InstallationStore } from '@slack/oauth';
import type { Route } from '../../src/http/server.js';

export interface InstallOptions {
  clientId: string;
  clientSecret: string;
  stateSecret: string;
  scopes: string[];
  installationStore: InstallationStore;
  logger: BoltLogger;
  /** Web API URL and fetch for oauth.v2.access (the same Web API transport as every other call). */
  clientOptions: { slackApiUrl?: string | undefined; fetch: typeof fetch };
}

export interface SlackInstaller {
  /** Bolt's authorize: the installation of the event's team, or of its enterprise (org-wide install). */
  authorize: Authorize<boolean>;
  /** GET /slack/install (redirects to Slack with a state cookie) and GET /slack/oauth_redirect. */
  routes: Route[];
}

export function createInstaller(options: InstallOptions): SlackInstaller {
  const provider = new InstallProvider({
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    stateSecret: options.stateSecret,
    installationStore: options.installationStore,
    // Straight to Slack's consent page: no "Add to Slack" page of our own.
    directInstall: true,
    logger: options.logger,
    clientOptions: options.clientOptions,
  });
  const installUrl = { scopes: options.scopes };
  return {
    authorize: (source) => provider.authorize(source),
    routes: [
      { method: 'GET', path: '/slack/install', handler: (req, res) => provider.handleInstallPath(req, res, undefined, installUrl) },
      { method: 'GET', path: '/slack/oauth_redirect', handler: (req, res) => provider.handleCallback(req, res) },
    ],
  };
}

/**
 * The decode backend of `vsnap serve` and `vsnap worker`, from their
 * configuration (setting `backend`).
 */

import { reportBackend, type BackendReport } from '../index.js';
import type { ServeConfig } from './config-settings.js';
import type { Logger } from './logger.js';

/**
 * Makes the configured backend the one of this process and of the worker
 * processes it starts (they inherit $VSNAP_BACKEND), loads it, and logs which
 * it is and why. A backend that cannot load fails the start.
 */
export function selectDecodeBackend(config: Pick<ServeConfig, 'backend'>, logger: Pick<Logger, 'info'>): BackendReport {
  process.env.VSNAP_BACKEND = config.backend;
  const report = reportBackend(config.backend);
  logger.info({ backend: report.name, reason: report.reason }, 'decode backend');
  return report;
}

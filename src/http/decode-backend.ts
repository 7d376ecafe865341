/**
 * The engine settings of `vsnap serve` and `vsnap worker`, from their
 * configuration: the decode backend (setting `backend`) and the limits of
 * each job (maxDuration, maxPixels, maxTargets).
 */

import { limitEnv, reportBackend, type BackendReport } from '../index.js';
import type { ServeConfig } from './config-settings.js';
import type { Logger } from './logger.js';

type EngineSettings = Pick<ServeConfig, 'backend' | 'maxDuration' | 'maxPixels' | 'maxTargets'>;

/**
 * Makes the configured backend and limits those of this process and of the
 * worker processes it starts (they inherit $VSNAP_BACKEND and the limits'
 * variables), loads the backend, and logs which it is and why. A backend
 * that cannot load fails the start.
 */
export function applyEngineSettings(config: EngineSettings, logger: Pick<Logger, 'info'>): BackendReport {
  process.env.VSNAP_BACKEND = config.backend;
  process.env[limitEnv.maxDuration] = String(config.maxDuration);
  process.env[limitEnv.maxPixels] = String(config.maxPixels);
  process.env[limitEnv.maxTargets] = String(config.maxTargets);
  const report = reportBackend(config.backend);
  logger.info({ backend: report.name, reason: report.reason }, 'decode backend');
  return report;
}

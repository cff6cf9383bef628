import { ARCHIVE_STAGE } from './archive-deps';
import { LIFECYCLE_STAGE_NAMES, ORDER_VIEW_STAGE_NAME } from './lifecycle-topics';

/** Every stage `orderflow run` knows, in the lifecycle's order, then the order view and the archive. */
export const STAGE_NAMES = [...LIFECYCLE_STAGE_NAMES, ORDER_VIEW_STAGE_NAME, ARCHIVE_STAGE] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export const isStageName = (name: string): name is StageName => (STAGE_NAMES as readonly string[]).includes(name);

/**
 * `--stages a,b` / ORDERFLOW_STAGES: names separated by commas, each known, none twice. Empty or
 * absent: every stage. Throws an error that names every unknown stage and lists the known ones.
 */
export const parseStageList = (text: string | undefined): readonly StageName[] => {
  const names = (text ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length === 0) return STAGE_NAMES;
  const unknown = names.filter((name) => !isStageName(name));
  if (unknown.length > 0) {
    throw new Error(`Unknown stage${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}: expected a comma-separated list of ${STAGE_NAMES.join(', ')}`);
  }
  const repeated = names.filter((name, i) => names.indexOf(name) !== i);
  if (repeated.length > 0) throw new Error(`Stage ${JSON.stringify(repeated[0])} is listed twice`);
  return STAGE_NAMES.filter((name) => names.includes(name));
};

/**
 * Export filters: which audit events an export receives. Pure functions, no I/O.
 */
import { type AuditEvent, type Severity, severityRank } from './auditEvent.js';

/** The `filters` block of an export. Absent fields, or `filters: {}`, match everything. */
interface ExportFilters {
  /** Inclusive lower bound on the severity scale. */
  readonly min_severity?: Severity;
  /** Exact event kind names; absent means every kind. */
  readonly event_kinds?: readonly string[];
}

/**
 * Whether an event passes an export's filters.
 *
 * @example
 * matchesFilters(event, { min_severity: 'error', event_kinds: ['auth_fail'] });
 */
const matchesFilters = (event: AuditEvent, filters: ExportFilters | undefined): boolean => {
  if (!filters) return true;
  if (
    filters.min_severity !== undefined &&
    severityRank(event.severity) < severityRank(filters.min_severity)
  ) {
    return false;
  }
  if (filters.event_kinds !== undefined && !filters.event_kinds.includes(event.event_kind)) {
    return false;
  }
  return true;
};

export type { ExportFilters };
export { matchesFilters };

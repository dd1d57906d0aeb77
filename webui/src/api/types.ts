// Shapes the OpenAPI document leaves as bare objects (campaign settings, a flow's
// definition, an import's summary, settings), written from docs/campaigns.md,
// docs/ivr.md and what the API returns. Everything else comes from schema.d.ts.
import type { Schemas } from './client';

export type Campaign = Schemas['CampaignOut'];
export type CampaignDetail = Schemas['CampaignDetail'];
export type CampaignListItem = Schemas['CampaignListItem'];
export type CallRecord = Schemas['CallOut'];
export type Figures = Schemas['Figures'];
export type LiveSnapshot = Schemas['LiveSnapshot'];
export type CampaignLive = Schemas['CampaignLive'];
export type Job = Schemas['JobOut'];
export type ImportRecord = Schemas['ImportOut'];
export type AudioPrompt = Schemas['AudioOut'];
export type UploadedAudio = Schemas['UploadedAudio'];
export type Flow = Schemas['FlowOut'];
export type FlowCheck = Schemas['FlowCheck'];
export type FlowProblem = Schemas['FlowProblem'];
export type User = Schemas['UserOut'];
export type Role = Schemas['RoleName'];
export type Session = Schemas['SessionOut'];
export type BlacklistEntry = Schemas['EntryOut'];
export type CalendarOut = Schemas['CalendarOut'];
export type ReportOut = Schemas['ReportOut'];
export type HistoryOut = Schemas['HistoryOut'];
export type CompareOut = Schemas['CompareOut'];
export type SettingsOut = Schemas['SettingsOut'];
export type PaceChange = Schemas['PaceChange'];
export type AuditEntry = Schemas['AuditOut'];
export type BackupsOut = Schemas['BackupsOut'];
export type PendingRestore = Schemas['PendingRestoreOut'];
export type UpdateStatus = Schemas['UpdateStatus'];
export type Token = Schemas['TokenOut'];
export type Alert = Schemas['Alert'];
export type CallOutcome = Schemas['CallOutcome'];
/** A call outcome, or `in_call`: what the calls list filters by and outcome counts are keyed by. */
export type OutcomeFilter = Schemas['OutcomeFilter'];

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const STATUSES = ['draft', 'scheduled', 'active', 'paused', 'completed', 'cancelled'] as const;
export const PURPOSES = ['informational', 'donation', 'advertising', 'political', 'emergency'] as const;
export const CAMPAIGN_TYPES = ['voice', 'sms', 'hybrid'] as const;
export const AMD_MODES = ['off', 'hang_up', 'leave_message'] as const;
// What the update installer can say (shofar_update::UpdateState; the document leaves it a string).
export const UPDATE_STATES = ['waiting', 'checking', 'installing', 'installed', 'refused', 'failed'] as const;
export type UpdateState = (typeof UPDATE_STATES)[number];
export const BLACKLIST_SOURCES = ['admin_import', 'user_optout', 'compliance', 'central'] as const;
// The campaign file's retry keys (shofar_campaign::retry::RETRY_KEYS): outcomes, checked against the API's.
export const RETRY_OUTCOMES = ['busy', 'no_answer', 'congestion', 'failed', 'voicemail'] as const satisfies readonly CallOutcome[];

/** A campaign's settings, in the campaign file's shape (docs/campaigns.md). */
export interface CampaignSettings {
  time_zone?: string;
  start?: string | null;
  end?: string | null;
  max_attempts?: number;
  caller_id?: string | null;
  audio?: string | null;
  ivr_flow?: string | null;
  sms_template?: string | null;
  amd?: string;
  windows?: Partial<Record<Weekday, string[] | string>>;
  quiet?: { shabbat?: boolean; holidays?: boolean; erev_from?: string | null; yom_hazikaron?: boolean };
  retry?: Partial<Record<(typeof RETRY_OUTCOMES)[number], string | false>>;
  pacing?: { cps?: number; max_channels?: number };
}

/** What the wizard sends: the campaign file's keys (POST/PUT /api/v1/campaigns). */
export interface CampaignDraft extends CampaignSettings {
  name: string;
  type: string;
  purpose: string;
  consent_override?: string | null;
}

/** An import's summary (the same as `shofar import --json`). */
export interface ImportSummary {
  total_rows: number;
  imported: number;
  duplicates: number;
  invalid: number;
  blacklisted: number;
  line_types?: Record<string, number>;
  invalid_rows?: { row: number; value: string; reason: string; code?: string }[];
  invalid_rows_truncated?: boolean;
  sms_capable?: number;
  consent?: { given?: number; refused?: number; unknown?: number; unrecognized?: number };
  merged?: number;
  phone_column?: string;
  consent_column?: string | null;
  added?: number;
  already_listed?: number;
  contacts_marked?: number;
}

// The IVR engine's JSON (docs/ivr.md).
export type NodeType = 'play' | 'menu' | 'capture' | 'action';
export interface Retry {
  seconds?: number;
  prompt: string;
  retries: number;
  then: string;
}
export interface FlowAction {
  kind: 'blacklist' | 'donate' | 'send_sms' | 'transfer' | 'end_call' | 'goto';
  amount_variable?: string;
  template?: string;
  to?: string;
  target?: string;
}
export interface FlowNode {
  type: NodeType;
  prompts?: string[];
  next?: string;
  keys?: Record<string, string>;
  timeout?: Retry;
  invalid?: Omit<Retry, 'seconds'>;
  variable?: string;
  min_length?: number;
  max_length?: number;
  terminator?: string;
  inter_digit_seconds?: number;
  action?: FlowAction;
}
export interface FlowDefinition {
  version: 1;
  name: string;
  start: string;
  nodes: Record<string, FlowNode>;
}

export interface TelephonyState {
  engine?: string;
  reachable?: boolean;
  note?: string;
  version?: string;
  trunk?: string | Record<string, unknown>;
  [key: string]: unknown;
}

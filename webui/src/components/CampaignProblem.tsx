import type { CampaignLive } from '../api/types';
import { useI18n, type MessageKey } from '../i18n';

/** The codes the box words a campaign's "cannot call" with; others come in English only. */
const KNOWN = ['prompts_missing', 'flow_invalid', 'flow_missing', 'audio_unusable', 'not_prepared'] as const;

/**
 * Why a campaign cannot call, in the UI's language when the box gives a known
 * code (the names it concerns are data and stay as they are), else the box's
 * English sentence marked as English.
 */
export function CampaignProblem({ live }: { live: Pick<CampaignLive, 'problem' | 'problem_code' | 'problem_names'> }) {
  const i18n = useI18n();
  if (!live.problem) return null;
  const code = KNOWN.find((known) => known === live.problem_code);
  if (code) {
    const names = new Intl.ListFormat(i18n.lang, { type: 'conjunction' }).format(live.problem_names ?? []);
    return <span title={live.problem}>{i18n.t(`problem.${code}` as MessageKey, { names })}</span>;
  }
  return (
    <bdi lang="en" dir="ltr">
      {live.problem}
    </bdi>
  );
}

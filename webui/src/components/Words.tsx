// Small pieces that show what the box records in words a clerk understands, with
// the codes second for those who ask.
import type { ReactNode } from 'react';
import { useI18n } from '../i18n';
import { actorOf } from '../lib/words';

/** Who did something: the user's name; "web:" / "api:" / "cli:" only in its tooltip. */
export function Actor({ actor }: { actor: string | null | undefined }) {
  const { t } = useI18n();
  if (!actor) return <>—</>;
  const who = actorOf(actor);
  const via = who.via === 'api' ? t('words.via.api', { token: who.token ?? '' }) : who.via ? t(`words.via.${who.via}`) : undefined;
  return (
    <bdi className="actor" title={via ? `${via} (${actor})` : actor}>
      {who.name}
    </bdi>
  );
}

/** Codes and raw values behind a disclosure: "technical details". */
export function Technical({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  return (
    <details className="technical">
      <summary>{t('words.technical')}</summary>
      <div className="technical-body">{children}</div>
    </details>
  );
}

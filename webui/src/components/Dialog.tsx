// Modal dialogs on the native <dialog>: focus stays inside, Escape closes, and
// focus returns to what opened it.
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useI18n } from '../i18n';
import { Button, ErrorBox, TextAreaField } from './ui';

export function Dialog({
  open,
  title,
  onClose,
  children,
  footer,
  wide = false,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      const opener = document.activeElement as HTMLElement | null;
      if (typeof dialog.showModal === 'function') dialog.showModal();
      else dialog.setAttribute('open', '');
      return () => opener?.focus?.();
    }
    if (!open && dialog.open) {
      if (typeof dialog.close === 'function') dialog.close();
      else dialog.removeAttribute('open');
    }
    return undefined;
  }, [open]);
  if (!open) return null;
  return (
    <dialog
      ref={ref}
      className={wide ? 'dialog dialog-wide' : 'dialog'}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      <div className="dialog-body">{children}</div>
      {footer && <div className="dialog-footer">{footer}</div>}
    </dialog>
  );
}

/**
 * "Are you sure?" with what will happen, and optionally a reason (kept in the
 * audit log or the blacklist history). `onConfirm` may fail: the error stays in
 * the dialog and it stays open.
 */
export function ConfirmDialog({
  open,
  title,
  message,
  confirmLabel,
  danger = false,
  reason,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  message: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  reason?: { label: string; required: boolean; hint?: string };
  onConfirm: (reason: string) => Promise<void> | void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    if (open) {
      setText('');
      setError(null);
      setMissing(false);
    }
  }, [open]);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (reason?.required && !text.trim()) {
      setMissing(true);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onConfirm(text.trim());
      onClose();
    } catch (cause) {
      setError(cause);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <div className="confirm-message">{message}</div>
        {reason && (
          <TextAreaField
            label={reason.label}
            hint={reason.hint}
            required={reason.required}
            value={text}
            rows={2}
            error={missing ? t('common.reasonRequired') : null}
            onChange={(e) => {
              setText(e.target.value);
              setMissing(false);
            }}
          />
        )}
        <ErrorBox error={error} />
        <div className="dialog-footer">
          <Button onClick={onClose} disabled={busy}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" variant={danger ? 'danger' : 'primary'} busy={busy} data-testid="confirm-ok">
            {confirmLabel}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

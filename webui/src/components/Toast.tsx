// Feedback for every action: a short message in a live region that screen readers
// announce, gone after a few seconds (errors stay until dismissed).
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import { useI18n } from '../i18n';
import { errorText } from './ui';
import { IconAlert, IconCheck, IconX } from './Icons';
import { ApiError } from '../api/client';

interface ToastItem {
  id: number;
  kind: 'success' | 'error' | 'info';
  text: string;
  detail?: string;
}

interface ToastApi {
  success: (text: string) => void;
  info: (text: string) => void;
  error: (error: unknown, text?: string) => void;
}

const ToastContext = createContext<ToastApi>({ success: () => {}, info: () => {}, error: () => {} });

export function ToastProvider({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<ToastItem[]>([]);
  const next = useRef(1);
  const { t, lang } = useI18n();
  const dismiss = useCallback((id: number) => setItems((list) => list.filter((item) => item.id !== id)), []);
  const push = useCallback(
    (item: Omit<ToastItem, 'id'>) => {
      const id = next.current++;
      setItems((list) => [...list.slice(-3), { ...item, id }]);
      if (item.kind !== 'error') setTimeout(() => dismiss(id), 5000);
    },
    [dismiss],
  );
  const api = useMemo<ToastApi>(
    () => ({
      success: (text) => push({ kind: 'success', text }),
      info: (text) => push({ kind: 'info', text }),
      error: (error, text) =>
        push({
          kind: 'error',
          text: text ? `${text}: ${errorText(t, error)}` : errorText(t, error),
          detail: error instanceof ApiError && error.message && lang === 'en' ? error.message : undefined,
        }),
    }),
    [push, t, lang],
  );
  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="toasts" aria-live="polite" aria-relevant="additions">
        {items.map((item) => (
          <div key={item.id} className={`toast toast-${item.kind}`} role={item.kind === 'error' ? 'alert' : 'status'}>
            {item.kind === 'error' ? <IconAlert /> : <IconCheck />}
            <div>
              <div dir="auto">{item.text}</div>
              {item.detail && (
                <div className="detail" dir="auto">
                  {item.detail}
                </div>
              )}
            </div>
            <button type="button" className="icon-button" onClick={() => dismiss(item.id)} aria-label={t('common.dismiss')}>
              <IconX size={14} />
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): ToastApi {
  return useContext(ToastContext);
}

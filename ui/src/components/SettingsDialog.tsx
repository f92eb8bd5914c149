import { useEffect, useRef, useState } from "react";
import type { Account, Calendar, ConflictPolicy, SettledConflict } from "../platform";
import { disconnectQuestion } from "../lib/accounts";
import { AccountsPanel } from "./AccountsPanel";
import { PoliciesPanel } from "./PoliciesPanel";
import type { AccountsModel } from "./useAccounts";
import { useModal } from "./useModal";

/** Settings sections, in tab order. Add new ones here (id: settings-tab-<key>, settings-panel-<key>). */
const SECTIONS = [
  { key: "accounts", label: "Accounts" },
  { key: "sync", label: "Sync" },
] as const;
type SectionKey = (typeof SECTIONS)[number]["key"];

/** Focus `el` if it is still in the page and can take focus, else `fallback`. */
function refocus(el: Element | null, fallback: string) {
  const usable = el instanceof HTMLElement && el.isConnected && !(el as HTMLButtonElement).disabled;
  (usable ? el : document.getElementById(fallback))?.focus();
}

function ConfirmDisconnect(props: { account: Account; unsent: number; onOk: (discardUnpushed: number) => void; onCancel: () => void }) {
  const backdrop = useRef<HTMLDivElement>(null);
  useModal(backdrop);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const before = document.activeElement;
    cancel.current?.focus();
    return () => refocus(before, "settings-close");
  }, []);
  return (
    <div className="modal-backdrop confirm-backdrop" ref={backdrop}>
      <div
        id="confirm-disconnect"
        className="dialog confirm"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="confirm-disconnect-title"
        aria-describedby="confirm-disconnect-text"
      >
        <h2 id="confirm-disconnect-title">Disconnect account</h2>
        <p id="confirm-disconnect-text">{disconnectQuestion(props.account, props.unsent)}</p>
        <div className="dialog-buttons">
          <span className="spacer" />
          <button id="confirm-disconnect-cancel" type="button" ref={cancel} className="secondary" onClick={props.onCancel}>
            Cancel
          </button>
          <button id="confirm-disconnect-ok" type="button" className="danger" onClick={() => props.onOk(Math.max(0, props.unsent))}>
            {props.unsent > 0 ? "Disconnect and discard" : "Disconnect"}
          </button>
        </div>
      </div>
    </div>
  );
}

export function SettingsDialog(props: {
  accounts: AccountsModel;
  /** Changes of an account not sent yet (from the sync overview). */
  unsentOf?: (accountId: string) => number;
  calendars: readonly Calendar[];
  /** Saves a synced calendar's conflict policy (Sync section). */
  onPolicy: (calendarId: string, policy: ConflictPolicy) => Promise<void>;
  /** The conflicts policies settled (Sync section). */
  loadSettled: () => Promise<SettledConflict[]>;
  onClose: () => void;
}) {
  const backdrop = useRef<HTMLDivElement>(null);
  useModal(backdrop);
  const [section, setSection] = useState<SectionKey>("accounts");
  const firstTab = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const before = document.activeElement;
    firstTab.current?.focus();
    return () => refocus(before, "btn-settings");
  }, []);
  const m = props.accounts;

  return (
    <>
      <div className="modal-backdrop" ref={backdrop}>
        <div id="settings-dialog" className="dialog settings" role="dialog" aria-modal="true" aria-labelledby="settings-heading">
          <div className="settings-header">
            <h2 id="settings-heading">Settings</h2>
            <span className="spacer" />
            <button id="settings-close" type="button" className="secondary" onClick={props.onClose} title="Close (Esc)">
              Close
            </button>
          </div>
          <div className="settings-body">
            <div className="settings-tabs" role="tablist" aria-orientation="vertical" aria-label="Settings sections">
              {SECTIONS.map((s, i) => (
                <button
                  key={s.key}
                  id={`settings-tab-${s.key}`}
                  ref={i === 0 ? firstTab : undefined}
                  type="button"
                  role="tab"
                  aria-selected={section === s.key}
                  aria-controls={`settings-panel-${s.key}`}
                  tabIndex={section === s.key ? 0 : -1}
                  onClick={() => setSection(s.key)}
                >
                  {s.label}
                </button>
              ))}
            </div>
            <section
              id={`settings-panel-${section}`}
              className="settings-panel"
              role="tabpanel"
              aria-labelledby={`settings-tab-${section}`}
            >
              <h3 className="settings-section-title">{SECTIONS.find((s) => s.key === section)?.label}</h3>
              {section === "accounts" && <AccountsPanel model={m} />}
              {section === "sync" && <PoliciesPanel calendars={props.calendars} onChange={props.onPolicy} loadSettled={props.loadSettled} />}
            </section>
          </div>
        </div>
      </div>
      {m.confirm && (
        <ConfirmDisconnect
          account={m.confirm}
          unsent={props.unsentOf?.(m.confirm.id) ?? 0}
          onOk={m.confirmDisconnect}
          onCancel={m.cancelDisconnect}
        />
      )}
    </>
  );
}

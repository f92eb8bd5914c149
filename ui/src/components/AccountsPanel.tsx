import type { Account } from "../platform";
import {
  PROVIDERS,
  accountDomId,
  isConnectable,
  notConfiguredReason,
  pendingConnectText,
  providerName,
  reconnectEmphasised,
  statusLabel,
  statusMessageFor,
} from "../lib/accounts";
import type { AccountsModel } from "./useAccounts";

function AccountRow(props: { account: Account; model: AccountsModel }) {
  const { account: a, model: m } = props;
  const message = statusMessageFor(a);
  const connectable = isConnectable(a.provider, m.configured);
  const reconnectDisabled = !m.loaded || m.connecting !== null || m.disconnecting !== null || !connectable;
  const disconnectDisabled = m.disconnecting !== null || m.connecting?.accountId === a.id;
  return (
    <li id={accountDomId(a.id)} className="account-row" data-status={a.status}>
      <div className="account-info">
        <div className="account-head">
          <span className="account-provider">{providerName(a.provider)}</span>
          <span id={accountDomId(a.id, "status")} className={`status-badge status-${a.status}`} data-status={a.status}>
            {statusLabel(a.status)}
          </span>
        </div>
        <div className="account-email">{a.email}</div>
        <div className="account-name">{a.displayName}</div>
        {message && (
          <div id={accountDomId(a.id, "message")} className="account-message">
            {message}
          </div>
        )}
      </div>
      <div className="account-actions">
        <button
          id={accountDomId(a.id, "reconnect")}
          type="button"
          className={reconnectEmphasised(a.status) ? "primary" : undefined}
          disabled={reconnectDisabled}
          title={connectable ? `Sign in to ${providerName(a.provider)} again` : notConfiguredReason(a.provider)}
          onClick={() => m.connect(a.provider, a.id)}
        >
          Reconnect
        </button>
        <button
          id={accountDomId(a.id, "disconnect")}
          type="button"
          className="danger"
          disabled={disconnectDisabled}
          onClick={() => m.askDisconnect(a)}
        >
          Disconnect
        </button>
      </div>
    </li>
  );
}

export function AccountsPanel(props: { model: AccountsModel }) {
  const m = props.model;
  const busy = m.connecting !== null || m.disconnecting !== null;
  return (
    <div className="accounts-panel">
      <p className="settings-help">
        Connect a Microsoft 365 or Google account to show and edit its calendars in Almanac.
      </p>

      <div id="accounts-error" className="error" role="alert" hidden={!m.error}>
        {m.error}
      </div>
      <div id="accounts-pending" className="pending" role="status" aria-live="polite" hidden={!busy}>
        {m.connecting && (
          <div>
            {pendingConnectText(m.connecting.provider)}{" "}
            <button id="accounts-cancel-sign-in" type="button" onClick={m.cancelConnect}>
              Cancel
            </button>
            {m.signInUrl && (
              <label className="sign-in-url">
                <span>No browser opened? Open this address in one:</span>
                <input
                  id="accounts-sign-in-url"
                  readOnly
                  value={m.signInUrl}
                  onFocus={(e) => e.currentTarget.select()}
                />
              </label>
            )}
          </div>
        )}
        {m.disconnecting && <div>{`Disconnecting ${m.disconnecting.email}…`}</div>}
      </div>
      <div id="accounts-notice" className="notice" role="status" aria-live="polite" hidden={!m.notice}>
        {m.notice}
      </div>

      {!m.loaded && m.accounts.length === 0 && <p className="settings-help">Loading accounts…</p>}
      {m.loaded && m.accounts.length === 0 && (
        <p id="accounts-empty" className="accounts-empty">
          No accounts are connected yet. Only local calendars are shown.
        </p>
      )}
      {m.accounts.length > 0 && (
        <ul id="accounts-list" className="accounts-list" aria-label="Connected accounts">
          {m.accounts.map((a) => (
            <AccountRow key={a.id} account={a} model={m} />
          ))}
        </ul>
      )}

      <h3 className="settings-subheading">Add an account</h3>
      <div className="connect-list">
        {PROVIDERS.map((p) => {
          const connectable = isConnectable(p, m.configured);
          const hintId = `connect-${p}-hint`;
          return (
            <div key={p} className="connect-item">
              <button
                id={`connect-${p}`}
                type="button"
                disabled={!m.loaded || busy || !connectable}
                aria-describedby={connectable ? undefined : hintId}
                title={connectable ? undefined : notConfiguredReason(p)}
                onClick={() => m.connect(p)}
              >
                {`Connect ${providerName(p)}`}
              </button>
              {m.loaded && !connectable && (
                <span id={hintId} className="connect-hint">
                  {notConfiguredReason(p)}
                </span>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}

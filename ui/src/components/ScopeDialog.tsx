import { useEffect, useRef } from "react";
import type { EditScope } from "../platform";
import { useModal } from "./useModal";

export type ScopeAction = "save" | "delete" | "move";

const TITLES: Record<ScopeAction, string> = {
  save: "Change recurring event",
  delete: "Delete recurring event",
  move: "Move recurring event",
};

export function ScopeDialog(props: { action: ScopeAction; onChoose: (scope: EditScope | null) => void }) {
  const backdrop = useRef<HTMLDivElement>(null);
  useModal(backdrop, true);
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => first.current?.focus(), []);
  return (
    <div className="modal-backdrop scope-backdrop" ref={backdrop}>
      <div id="scope-dialog" className="dialog scope" role="dialog" aria-modal="true" aria-labelledby="scope-title">
        <h2 id="scope-title">{TITLES[props.action]}</h2>
        <p>Apply this change to:</p>
        <div className="dialog-buttons vertical">
          <button id="scope-occurrence" ref={first} onClick={() => props.onChoose("occurrence")}>
            Only this occurrence
          </button>
          <button id="scope-all" onClick={() => props.onChoose("all")}>
            All occurrences
          </button>
          <button id="scope-cancel" className="secondary" onClick={() => props.onChoose(null)}>
            Cancel
          </button>
        </div>
      </div>
    </div>
  );
}

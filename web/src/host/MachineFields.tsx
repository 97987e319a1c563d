// The inputs of a machine's terms, shared by the listing form and the machine page: hardware,
// place, price and weekly hours, each with its hint and, once checked, its error beside it.
import { useId, type ReactNode } from "react";

import { DAY_NAMES, DAYS, type Day, type FormErrors, type HoursRow, type MachineForm, type TextField } from "./machineForm";

interface FieldsProps {
  form: MachineForm;
  errors: FormErrors;
  onChange: (next: MachineForm) => void;
  /** Which groups to show (the machine page edits hardware apart from price and hours). */
  groups?: readonly ("hardware" | "terms" | "hours")[];
}

export function MachineFields({ form, errors, onChange, groups = ["hardware", "terms", "hours"] }: FieldsProps) {
  const set = (field: TextField) => (value: string) => onChange({ ...form, [field]: value });
  const input = (field: TextField, label: string, extra: Partial<InputProps> = {}) => (
    <TextInput name={field} label={label} value={form[field]} error={errors[field]} onChange={set(field)} {...extra} />
  );
  return (
    <>
      {groups.includes("hardware") ? (
        <fieldset className="host-fieldset">
          <legend>Machine</legend>
          <div className="field-row">
            {input("name", "Name", { required: true, hint: "How renters see it, e.g. “Basement rig”.", maxLength: 100 })}
            {input("gpu_name", "GPU model", { required: true, hint: "e.g. RTX 4090, H100 SXM 80GB." })}
            {input("gpu_count", "GPUs", { required: true, inputMode: "numeric", hint: "1 to 64." })}
            {input("gpu_memory_gb", "GPU memory (GB)", { inputMode: "decimal", hint: "Per GPU; blank: from the model." })}
            {input("vcpus", "vCPUs", { inputMode: "decimal" })}
            {input("memory_gb", "Memory (GB)", { inputMode: "decimal" })}
            {input("disk_gb", "Disk (GB)", { inputMode: "decimal" })}
            {input("inet_down_mbps", "Download (Mbps)", { inputMode: "decimal" })}
            {input("inet_up_mbps", "Upload (Mbps)", { inputMode: "decimal" })}
            {input("region", "Region", { hint: "e.g. Bavaria." })}
            {input("country", "Country", { hint: "Two letters, e.g. DE.", maxLength: 2, autoComplete: "country" })}
          </div>
        </fieldset>
      ) : null}
      {groups.includes("terms") ? (
        <fieldset className="host-fieldset">
          <legend>Price and terms</legend>
          <div className="field-row">
            {input("price_per_hour", "Price per hour (USD)", { required: true, inputMode: "decimal", hint: "For the whole machine, e.g. 0.45." })}
            {input("min_hours", "Shortest booking (hours)", { inputMode: "decimal", hint: "Blank: the platform's minimum." })}
            {input("timezone", "Time zone", { hint: "IANA zone of the hours, e.g. Europe/Berlin." })}
          </div>
        </fieldset>
      ) : null}
      {groups.includes("hours") ? (
        <HoursEditor rows={form.windows} errors={errors} onChange={(windows) => onChange({ ...form, windows })} timezone={form.timezone} />
      ) : null}
    </>
  );
}

interface InputProps {
  name: string;
  label: string;
  value: string;
  error?: string;
  hint?: ReactNode;
  required?: boolean;
  maxLength?: number;
  inputMode?: "numeric" | "decimal" | "text";
  autoComplete?: string;
  onChange: (value: string) => void;
}

export function TextInput({ name, label, value, error, hint, required, maxLength, inputMode, autoComplete, onChange }: InputProps) {
  const id = useId();
  const described = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(" ") || undefined;
  return (
    <label className="field" htmlFor={id}>
      <span>
        {label}
        {required ? <span aria-hidden="true"> *</span> : null}
      </span>
      <input
        id={id}
        name={name}
        value={value}
        required={required}
        maxLength={maxLength}
        inputMode={inputMode}
        autoComplete={autoComplete ?? "off"}
        aria-invalid={error ? true : undefined}
        aria-describedby={described}
        onChange={(event) => onChange(event.target.value)}
      />
      {hint ? <small id={`${id}-hint`}>{hint}</small> : null}
      {error ? (
        <small id={`${id}-error`} className="field-error">
          {error}
        </small>
      ) : null}
    </label>
  );
}

interface HoursProps {
  rows: HoursRow[];
  errors: FormErrors;
  timezone: string;
  onChange: (rows: HoursRow[]) => void;
}

const WEEKDAYS: readonly Day[] = ["mon", "tue", "wed", "thu", "fri"];

/** Weekly opening hours: rows of day, from and to; no rows means always open. */
export function HoursEditor({ rows, errors, timezone, onChange }: HoursProps) {
  const update = (index: number, patch: Partial<HoursRow>) => onChange(rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));
  return (
    <fieldset className="host-fieldset">
      <legend>Availability hours</legend>
      <p className="muted host-hint">
        {rows.length === 0
          ? "Always open: renters can book any time that is not booked or blocked."
          : `Renters can book only inside these hours (${timezone || "UTC"}).`}
      </p>
      {rows.length > 0 ? (
        <ul className="hours-list">
          {rows.map((row, index) => {
            const error = errors[`windows.${index}`];
            const errorId = `hours-error-${index}`;
            return (
              <li key={index} className="hours-row">
                <label className="field">
                  <span>Day</span>
                  <select value={row.day} onChange={(e) => update(index, { day: e.target.value as Day })} aria-label={`Day of hours ${index + 1}`}>
                    {DAYS.map((day) => (
                      <option key={day} value={day}>
                        {DAY_NAMES[day]}
                      </option>
                    ))}
                  </select>
                </label>
                <label className="field">
                  <span>From</span>
                  <input
                    type="text"
                    inputMode="numeric"
                    value={row.start}
                    placeholder="09:00"
                    aria-label={`From (HH:MM), hours ${index + 1}`}
                    aria-invalid={error ? true : undefined}
                    aria-describedby={error ? errorId : undefined}
                    onChange={(e) => update(index, { start: e.target.value })}
                  />
                </label>
                <label className="field">
                  <span>To</span>
                  <input
                    type="text"
                    inputMode="numeric"
                    value={row.end}
                    placeholder="17:00"
                    aria-label={`To (HH:MM, 24:00 for midnight), hours ${index + 1}`}
                    aria-invalid={error ? true : undefined}
                    aria-describedby={error ? errorId : undefined}
                    onChange={(e) => update(index, { end: e.target.value })}
                  />
                </label>
                <button type="button" className="button button-quiet" onClick={() => onChange(rows.filter((_, i) => i !== index))}>
                  Remove<span className="sr-only"> hours {index + 1}</span>
                </button>
                {error ? (
                  <small id={errorId} className="field-error hours-error">
                    {error}
                  </small>
                ) : null}
              </li>
            );
          })}
        </ul>
      ) : null}
      <div className="actions">
        <button type="button" className="button" onClick={() => onChange([...rows, { day: "mon", start: "09:00", end: "17:00" }])}>
          Add hours
        </button>
        <button
          type="button"
          className="button button-quiet"
          onClick={() => onChange(WEEKDAYS.map((day) => ({ day, start: "09:00", end: "17:00" })))}
        >
          Weekdays 9 to 5
        </button>
        {rows.length > 0 ? (
          <button type="button" className="button button-quiet" onClick={() => onChange([])}>
            Always open
          </button>
        ) : null}
      </div>
    </fieldset>
  );
}

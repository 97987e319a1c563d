// Dark and light themes. The default follows the system (prefers-color-scheme); the toggle
// stores an explicit choice in localStorage. index.html applies the stored choice before the
// first paint, so a reload never flashes the other theme.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

export type ThemeChoice = "system" | "light" | "dark";
export type Theme = "light" | "dark";

const STORAGE_KEY = "gp4u.theme";
const DARK_QUERY = "(prefers-color-scheme: dark)";
const ORDER: readonly ThemeChoice[] = ["system", "light", "dark"];

interface ThemeContextValue {
  choice: ThemeChoice;
  theme: Theme;
  setChoice: (choice: ThemeChoice) => void;
  cycle: () => void;
}

const ThemeContext = createContext<ThemeContextValue | null>(null);

function storedChoice(): ThemeChoice {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return stored === "light" || stored === "dark" ? stored : "system";
  } catch {
    return "system";
  }
}

function systemTheme(): Theme {
  return typeof window.matchMedia === "function" && window.matchMedia(DARK_QUERY).matches ? "dark" : "light";
}

export function ThemeProvider({ children }: { children: ReactNode }) {
  const [choice, setChoiceState] = useState<ThemeChoice>(storedChoice);
  const [system, setSystem] = useState<Theme>(systemTheme);

  useEffect(() => {
    if (typeof window.matchMedia !== "function") return undefined;
    const media = window.matchMedia(DARK_QUERY);
    const onChange = () => setSystem(media.matches ? "dark" : "light");
    media.addEventListener("change", onChange);
    return () => media.removeEventListener("change", onChange);
  }, []);

  const theme: Theme = choice === "system" ? system : choice;

  useEffect(() => {
    const root = document.documentElement;
    root.dataset.theme = theme;
    root.style.colorScheme = theme;
  }, [theme]);

  const setChoice = useCallback((next: ThemeChoice) => {
    setChoiceState(next);
    try {
      if (next === "system") localStorage.removeItem(STORAGE_KEY);
      else localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Storage can be unavailable (private mode): the choice then lasts for this page only.
    }
  }, []);

  const cycle = useCallback(() => {
    setChoice(ORDER[(ORDER.indexOf(choice) + 1) % ORDER.length]!);
  }, [choice, setChoice]);

  const value = useMemo(() => ({ choice, theme, setChoice, cycle }), [choice, theme, setChoice, cycle]);
  return <ThemeContext.Provider value={value}>{children}</ThemeContext.Provider>;
}

export function useTheme(): ThemeContextValue {
  const value = useContext(ThemeContext);
  if (!value) throw new Error("useTheme needs a ThemeProvider");
  return value;
}

const LABELS: Record<ThemeChoice, string> = { system: "System", light: "Light", dark: "Dark" };

/** One button that cycles System → Light → Dark; its name says the current choice. */
export function ThemeToggle() {
  const { choice, theme, cycle } = useTheme();
  const next = ORDER[(ORDER.indexOf(choice) + 1) % ORDER.length]!;
  return (
    <button
      type="button"
      className="button button-quiet theme-toggle"
      onClick={cycle}
      title={`Theme: ${LABELS[choice]}${choice === "system" ? ` (${theme})` : ""}. Switch to ${LABELS[next]}.`}
    >
      <span aria-hidden="true">{theme === "dark" ? "☾" : "☀"}</span> Theme: {LABELS[choice]}
    </button>
  );
}

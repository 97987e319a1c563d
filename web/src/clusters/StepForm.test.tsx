// The step form: a missing field is named and focused before anything is sent, model size and
// tokens show the compute they mean, and a complete form is handed back as typed.
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { StepForm } from "./StepForm";
import { EMPTY_FORM } from "./planState";

afterEach(cleanup);

describe("the step form", () => {
  it("names and focuses the first missing field instead of submitting", async () => {
    const onSubmit = vi.fn();
    render(<StepForm initial={EMPTY_FORM} onSubmit={onSubmit} busy={false} />);
    await userEvent.type(screen.getByLabelText("Model size (billions of parameters)"), "70");
    await userEvent.click(screen.getByRole("button", { name: "Plan it" }));
    expect(screen.getByRole("alert").textContent).toMatch(/number of tokens is needed/);
    const tokens = screen.getByLabelText("Training tokens (billions)");
    expect(document.activeElement).toBe(tokens);
    expect(tokens.getAttribute("aria-invalid")).toBe("true");
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("shows the compute that model and tokens mean, and hands back the form", async () => {
    const onSubmit = vi.fn();
    render(<StepForm initial={EMPTY_FORM} onSubmit={onSubmit} busy={false} />);
    await userEvent.type(screen.getByLabelText("Model size (billions of parameters)"), "70");
    await userEvent.type(screen.getByLabelText("Training tokens (billions)"), "2");
    expect(screen.getByText(/233 PFLOP-hours \(6 × parameters × tokens\)/)).toBeTruthy();
    await userEvent.type(screen.getByLabelText("Done within (hours)"), "48");
    await userEvent.click(screen.getByLabelText("Spot (interruptible) instances are fine"));
    await userEvent.click(screen.getByRole("button", { name: "Plan it" }));
    expect(onSubmit).toHaveBeenCalledWith({ ...EMPTY_FORM, params_b: "70", tokens_b: "2", deadline_hours: "48", spot_allowed: true });
  });

  it("switches the compute and deadline fields with their radios", async () => {
    render(<StepForm initial={EMPTY_FORM} onSubmit={vi.fn()} busy={false} />);
    await userEvent.click(screen.getByLabelText("GPU-hours", { selector: "input[type=radio]" }));
    expect(screen.getByLabelText("Reference GPU")).toBeTruthy();
    await userEvent.click(screen.getByLabelText("A date"));
    expect(screen.getByLabelText("Done by")).toBeTruthy();
  });
});

// The query bar against a real router: submitting writes the URL, a bad query is stopped with
// its position shown, quick filters rewrite the query, the URL (Back, a shared link) puts the
// query back in the bar, and the combobox completes fields, operators and GPU names.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createMemoryRouter, RouterProvider, useLocation } from "react-router";

// GET /api/v1/gpus answers a few names; nothing else is asked.
vi.mock("../api/client", () => ({
  api: {
    GET: vi.fn(async () => ({
      data: { items: [{ name: "A100" }, { name: "H100" }, { name: "H200" }], unrecognised: [] },
      response: new Response(null, { status: 200 }),
    })),
  },
}));

import { ApiError } from "../api/errors";
import { minGpusOf, priceTypeOf, QueryBar } from "./QueryBar";

function Location() {
  const location = useLocation();
  return <output data-testid="location">{location.search}</output>;
}

function setup(url: string, serverError: ApiError | null = null) {
  const router = createMemoryRouter(
    [
      {
        path: "/",
        element: (
          <>
            <QueryBar serverError={serverError} />
            <Location />
          </>
        ),
      },
    ],
    { initialEntries: [url] },
  );
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  return { router, user: userEvent.setup(), input: screen.getByRole("combobox", { name: "Query" }) as HTMLInputElement };
}

const search = () => new URLSearchParams(screen.getByTestId("location").textContent ?? "");

afterEach(cleanup);

describe("QueryBar", () => {
  it("shows the query from the URL and submits a new one into it", async () => {
    const { input, user } = setup("/?q=gpu%3DA100&sort=-price_per_hour&offer=3");
    expect(input.value).toBe("gpu=A100");
    await user.clear(input);
    await user.type(input, "gpu=H100 gpu_count>=8{Enter}");
    expect(search().get("q")).toBe("gpu=H100 gpu_count>=8");
    expect(search().get("sort")).toBe("-price_per_hour");
    expect(search().has("offer")).toBe(false);
  });

  it("stops a query with an unknown field and shows where the problem is", async () => {
    const { input, user } = setup("/?q=gpu%3DA100");
    await user.clear(input);
    await user.type(input, "gpu=H100 gpuu_count>=8");
    await user.click(screen.getByRole("button", { name: "Search" }));
    expect(screen.getByRole("alert").textContent).toContain("Unknown field “gpuu_count”");
    expect(screen.getByRole("alert").querySelector("mark")?.textContent).toBe("gpuu_count");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(search().get("q")).toBe("gpu=A100");
  });

  it("shows the server's refusal", () => {
    setup("/?q=gpu_count%3Dlots", new ApiError(400, "InvalidQuery", "bad value 'lots' for 'gpu_count'", { field: "gpu_count" }));
    expect(screen.getByRole("alert").textContent).toContain("bad value 'lots'");
  });

  it("quick filters edit the query and follow it", async () => {
    const { input, user } = setup("/?q=gpu%3DH100+spot%3Dtrue");
    const priceType = screen.getByRole("combobox", { name: "Price type" }) as HTMLSelectElement;
    const gpus = screen.getByRole("combobox", { name: "GPUs per machine" }) as HTMLSelectElement;
    expect(priceType.value).toBe("spot");
    await user.selectOptions(priceType, "on-demand");
    expect(search().get("q")).toBe("gpu=H100 spot=false");
    await user.selectOptions(gpus, "8");
    expect(search().get("q")).toBe("gpu=H100 spot=false gpu_count>=8");
    expect(input.value).toBe("gpu=H100 spot=false gpu_count>=8");
    await user.selectOptions(priceType, "");
    expect(search().get("q")).toBe("gpu=H100 gpu_count>=8");
  });

  it("follows the URL on Back and Forward", async () => {
    const { router, input, user } = setup("/?q=gpu%3DA100");
    await user.clear(input);
    await user.type(input, "gpu=L40S{Enter}");
    expect(input.value).toBe("gpu=L40S");
    await router.navigate(-1);
    expect(await screen.findByDisplayValue("gpu=A100")).toBe(input);
  });

  it("clears the query", async () => {
    const { input, user } = setup("/?q=gpu%3DA100");
    await user.click(screen.getByRole("button", { name: "Clear" }));
    expect(input.value).toBe("");
    expect(search().has("q")).toBe(false);
  });
});

describe("QueryBar autocomplete", () => {
  const listbox = () => screen.queryByRole("listbox");
  const options = () => {
    const list = listbox();
    return list ? within(list).queryAllByRole("option").map((o) => o.querySelector("code")?.textContent) : [];
  };
  const option = (name: RegExp) => within(screen.getByRole("listbox")).findByRole("option", { name });

  it("is a combobox whose list follows the term under the caret", async () => {
    const { input, user } = setup("/");
    expect(input.getAttribute("aria-expanded")).toBe("false");
    await user.type(input, "gpu_c");
    expect(input.getAttribute("aria-expanded")).toBe("true");
    expect(options()).toEqual(["gpu_count"]);
    const listbox = screen.getByRole("listbox");
    expect(input.getAttribute("aria-controls")).toBe(listbox.id);
  });

  it("moves with the arrows, accepts with Enter and Tab, and then offers what comes next", async () => {
    const { input, user } = setup("/");
    await user.type(input, "gpu_c");
    await user.keyboard("{ArrowDown}");
    const active = within(listbox()!).getByRole("option", { selected: true });
    expect(input.getAttribute("aria-activedescendant")).toBe(active.id);
    await user.keyboard("{Enter}");
    expect(input.value).toBe("gpu_count");
    expect(search().has("q")).toBe(false); // Enter accepted the completion, it did not search
    expect(options()).toContain("gpu_count>=");
    await user.keyboard("{ArrowDown}{ArrowDown}{ArrowDown}{ArrowUp}");
    expect(within(listbox()!).getByRole("option", { selected: true }).textContent).toContain("gpu_count!=");
    await user.keyboard("{Tab}");
    expect(input.value).toBe("gpu_count!=");
    expect(input).toBe(document.activeElement);
  });

  it("completes GPU names from the API and closes on Escape without losing the text", async () => {
    const { input, user } = setup("/");
    await user.type(input, "gpu=H");
    await option(/H200/);
    expect(options()).toEqual(["H100", "H200"]);
    await user.keyboard("{Escape}");
    expect(options()).toHaveLength(0);
    expect(input.getAttribute("aria-expanded")).toBe("false");
    expect(input.value).toBe("gpu=H");
  });

  it("completes the term under the caret in the middle of the query", async () => {
    const { input, user } = setup("/?q=gpu%3DA100+spot%3Dtrue");
    await user.type(input, "{Backspace}{Backspace}{Backspace}{Backspace}H1", { initialSelectionStart: 8, initialSelectionEnd: 8 });
    expect(input.value).toBe("gpu=H1 spot=true");
    await user.click(await option(/H100/));
    expect(input.value).toBe("gpu=H100 spot=true");
  });
});

describe("quick filter values", () => {
  it.each([
    ["", ""],
    ["spot=no", "on-demand"],
    ["interruptible=TRUE", "spot"],
    ["spot!=true", "custom"],
    ["spot=true spot=false", "custom"],
  ])("price type of %j is %j", (q, expected) => {
    expect(priceTypeOf(q)).toBe(expected);
  });

  it.each([
    ["gpu=H100", ""],
    ["gpus>=4", "4"],
    ["gpu_count>=3", "custom"],
    ["gpu_count=8", "custom"],
  ])("GPUs of %j is %j", (q, expected) => {
    expect(minGpusOf(q)).toBe(expected);
  });
});

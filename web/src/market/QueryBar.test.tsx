// The query bar against a real router: submitting writes the URL, a bad query is stopped with
// its position shown, quick filters rewrite the query, and the URL (Back, a shared link) puts
// the query back in the bar.
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryRouter, RouterProvider, useLocation } from "react-router";

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
  render(<RouterProvider router={router} />);
  return { router, user: userEvent.setup(), input: screen.getByRole("searchbox", { name: "Query" }) as HTMLInputElement };
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

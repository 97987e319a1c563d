// Any path the router does not know.
import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <section className="page narrow" aria-labelledby="notfound-title">
      <h1 id="notfound-title">Page not found</h1>
      <p>
        There is nothing at this address. <Link to="/">Back to the marketplace</Link>
      </p>
    </section>
  );
}

export function RouteErrorPage() {
  return (
    <section className="page narrow" aria-labelledby="error-title" role="alert">
      <h1 id="error-title">Something broke</h1>
      <p>
        This page failed to load. Reload, or <a href="/">go back to the marketplace</a>.
      </p>
    </section>
  );
}

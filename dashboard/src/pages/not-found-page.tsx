import { Link } from "../components/link";

export function NotFoundPage({ path }: { path: string }) {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        The dashboard has no page at <code>{path}</code>. <Link to="/analytics">Go to the analytics</Link>.
      </p>
    </section>
  );
}

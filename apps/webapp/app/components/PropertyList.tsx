import { Link } from "@remix-run/react";
import type { Property } from "~/presenters/dashboard/runDetail.server";
import { Time } from "./Time";

/** A definition list of label/value pairs; empty values show as a dash. */
export function PropertyList({ items, hideEmpty = false }: { items: Property[]; hideEmpty?: boolean }) {
  const shown = hideEmpty ? items.filter((i) => i.value !== null && i.value !== "") : items;
  return (
    <dl className="props">
      {shown.map((item) => (
        <PropertyRow key={item.label} item={item} />
      ))}
    </dl>
  );
}

function PropertyRow({ item }: { item: Property }) {
  let value: React.ReactNode;
  if (item.time) value = <Time value={item.time} />;
  else if (item.value === null || item.value === "") value = <span className="faint">—</span>;
  else if (item.href) value = <Link to={item.href} className={item.mono ? "mono" : undefined}>{item.value}</Link>;
  else value = <span className={item.mono ? "mono" : undefined}>{item.value}</span>;
  return (
    <>
      <dt>{item.label}</dt>
      <dd>{value}</dd>
    </>
  );
}

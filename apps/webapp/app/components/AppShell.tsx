import { Form, Link, NavLink } from "@remix-run/react";
import type { ReactNode } from "react";
import type { Navigation } from "~/presenters/dashboard/navigation.server";
import { CsrfInput } from "./CsrfInput";

export type ShellUser = { email: string; admin: boolean };

function Brand() {
  return (
    <Link to="/" className="brand">
      <span className="brand-mark" aria-hidden="true" />
      Runplane
    </Link>
  );
}

function UserMenu({ user }: { user: ShellUser }) {
  return (
    <div className="header-user">
      {user.admin ? <Link to="/admin">Admin</Link> : null}
      <Link to="/account/tokens">Access tokens</Link>
      <span title="Logged in as">{user.email}</span>
      <Form method="post" action="/logout" className="inline">
        <CsrfInput />
        <button type="submit" className="link-button">
          Log out
        </button>
      </Form>
    </div>
  );
}

/** Org / project / environment switcher: a plain <details> dropdown of links. */
function Switcher({ navigation }: { navigation: Navigation }) {
  const current = navigation.current;
  return (
    <details className="switcher" data-dropdown>
      <summary>
        {current ? (
          <>
            <span>{current.organization}</span>
            <span className="crumb-sep">/</span>
            <span>{current.project}</span>
            <span className={`env-pill ${current.environment.type}`}>{current.environment.label}</span>
          </>
        ) : (
          <span>Choose an environment</span>
        )}
      </summary>
      <div className="switcher-menu">
        {navigation.organizations.map((org) => (
          <div key={org.slug}>
            <div className="switcher-org">{org.title}</div>
            {org.projects.map((project) => (
              <div key={project.slug}>
                <div className="switcher-project">{project.name}</div>
                <div className="switcher-envs">
                  {project.environments.map((env) => (
                    <Link key={env.slug} to={env.href} className={env.current ? "current" : undefined}>
                      {env.label}
                    </Link>
                  ))}
                </div>
              </div>
            ))}
          </div>
        ))}
      </div>
    </details>
  );
}

const ENV_SECTIONS = [
  { path: "runs", label: "Runs" },
  { path: "queues", label: "Queues" },
  { path: "waitpoints", label: "Wait tokens" },
  { path: "batches", label: "Batches" },
  { path: "schedules", label: "Schedules" },
  { path: "bulk-actions", label: "Bulk actions" },
  { path: "envvars", label: "Environment variables" },
  { path: "environment", label: "Environment" },
];

/** The dashboard frame for environment pages: header with switcher and user menu, section tabs. */
export function EnvironmentShell({ user, navigation, children }: { user: ShellUser; navigation: Navigation; children: ReactNode }) {
  const base = navigation.current?.base;
  return (
    <>
      <header className="app-header">
        <Brand />
        <Switcher navigation={navigation} />
        <div className="header-spacer" />
        <UserMenu user={user} />
      </header>
      {base ? (
        <nav className="env-nav" aria-label="Environment">
          {ENV_SECTIONS.map((section) => (
            <NavLink key={section.path} to={`${base}/${section.path}`} className={({ isActive }) => (isActive ? "active" : undefined)}>
              {section.label}
            </NavLink>
          ))}
        </nav>
      ) : null}
      <main className="page">{children}</main>
    </>
  );
}

/** The frame for /admin pages. */
export function AdminShell({ user, children }: { user: ShellUser; children: ReactNode }) {
  return (
    <>
      <header className="app-header">
        <Brand />
        <span className="env-pill">Admin</span>
        <div className="header-spacer" />
        <UserMenu user={user} />
      </header>
      <nav className="env-nav" aria-label="Admin">
        <NavLink to="/admin" end className={({ isActive }) => (isActive ? "active" : undefined)}>
          Users &amp; organisations
        </NavLink>
        <NavLink to="/admin/runs" className={({ isActive }) => (isActive ? "active" : undefined)}>
          Debug run
        </NavLink>
      </nav>
      <main className="page">{children}</main>
    </>
  );
}

/** The frame for the user's own pages (/account/…). */
export function AccountShell({ user, children }: { user: ShellUser; children: ReactNode }) {
  return (
    <>
      <header className="app-header">
        <Brand />
        <span className="env-pill">Account</span>
        <div className="header-spacer" />
        <UserMenu user={user} />
      </header>
      <main className="page">{children}</main>
    </>
  );
}

// The dashboard: an app's activity from the `stats` query, drawn as SVG charts
// (each with its figures as a table for screen readers and keyboard users).
import { useMemo, useState } from 'react';
import { graphql } from '../gql';
import { useQuery } from '../hooks';
import { ErrorBox, Loading, PageHeader } from '../ui';

const StatsQuery = graphql(`
  query Stats($app: String!, $from: DateTime, $to: DateTime) {
    stats(app: $app, from: $from, to: $to) {
      from
      to
      activeSessions
      days {
        day
        signIns
        failedSignIns
      }
      tokensIssued {
        grant
        count
      }
      webhooks {
        succeeded
        failed
        pending
        successRate
      }
    }
  }
`);

const GRANT_LABELS: Record<string, string> = {
  sign_in: 'Sign-in',
  refresh_token: 'Refresh token',
  authorization_code: 'Authorization code',
  client_credentials: 'Client credentials',
};

interface Day {
  day: string;
  signIns: number;
  failedSignIns: number;
}

/** The bar heights of a day chart, scaled to the tallest value (at least 1). */
export function scale(days: Day[], height: number): { max: number; ok: number[]; failed: number[] } {
  const max = Math.max(1, ...days.map((d) => Math.max(d.signIns, d.failedSignIns)));
  return {
    max,
    ok: days.map((d) => (d.signIns / max) * height),
    failed: days.map((d) => (d.failedSignIns / max) * height),
  };
}

function SignInChart({ days }: { days: Day[] }) {
  const height = 160;
  const width = Math.max(days.length * 22, 300);
  const bars = scale(days, height);
  const total = days.reduce((n, d) => n + d.signIns, 0);
  const failed = days.reduce((n, d) => n + d.failedSignIns, 0);
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${width} ${height + 2}`}
        role="img"
        aria-label={`Sign-ins per day: ${total} successful, ${failed} failed in ${days.length} days`}
        preserveAspectRatio="none"
      >
        {days.map((d, i) => (
          <g key={d.day} transform={`translate(${i * 22 + 2}, 0)`}>
            <rect className="bar-ok" x={0} y={height - bars.ok[i]} width={9} height={bars.ok[i]}>
              <title>{`${d.day}: ${d.signIns} sign-ins`}</title>
            </rect>
            <rect className="bar-bad" x={10} y={height - bars.failed[i]} width={9} height={bars.failed[i]}>
              <title>{`${d.day}: ${d.failedSignIns} failed`}</title>
            </rect>
          </g>
        ))}
        <line x1={0} x2={width} y1={height} y2={height} className="axis" />
      </svg>
      <div className="axis-labels" aria-hidden="true">
        <span>{days[0]?.day}</span>
        <span>{days[days.length - 1]?.day}</span>
      </div>
      <figcaption>
        <span className="legend ok">Sign-ins ({total})</span> <span className="legend bad">Failed sign-ins ({failed})</span>
      </figcaption>
      <details>
        <summary>Figures per day</summary>
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
          <table>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Sign-ins</th>
                <th scope="col">Failed</th>
              </tr>
            </thead>
            <tbody>
              {days.map((d) => (
                <tr key={d.day}>
                  <td>{d.day}</td>
                  <td>{d.signIns}</td>
                  <td>{d.failedSignIns}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

function GrantBars({ grants }: { grants: { grant: string; count: number }[] }) {
  const max = Math.max(1, ...grants.map((g) => g.count));
  return (
    <ul className="hbars">
      {grants.map((g) => (
        <li key={g.grant}>
          <span className="hbar-label">{GRANT_LABELS[g.grant] ?? g.grant}</span>
          <span className="hbar-track" aria-hidden="true">
            <span className="hbar" ref={(el) => el?.style.setProperty('width', `${(g.count / max) * 100}%`)} />
          </span>
          <span className="hbar-value">{g.count}</span>
        </li>
      ))}
    </ul>
  );
}

function Ring({ rate }: { rate: number | null | undefined }) {
  const r = 40;
  const circumference = 2 * Math.PI * r;
  const value = rate ?? 0;
  return (
    <svg viewBox="0 0 100 100" className="ring" role="img" aria-label={rate == null ? 'No finished deliveries' : `Success rate ${Math.round(value * 100)}%`}>
      <circle cx={50} cy={50} r={r} className="ring-track" />
      <circle
        cx={50}
        cy={50}
        r={r}
        className="ring-value"
        strokeDasharray={`${value * circumference} ${circumference}`}
        transform="rotate(-90 50 50)"
      />
      <text x={50} y={56} textAnchor="middle" className="ring-text">
        {rate == null ? '—' : `${Math.round(value * 100)}%`}
      </text>
    </svg>
  );
}

export function Dashboard({ app }: { app: string }) {
  const [range, setRange] = useState(30);
  const variables = useMemo(() => {
    const to = new Date();
    to.setUTCMinutes(to.getUTCMinutes() + 1, 0, 0);
    const from = new Date(to.getTime() - range * 86400_000);
    return { app, from: from.toISOString(), to: to.toISOString() };
  }, [app, range]);
  const stats = useQuery(StatsQuery, variables);
  const s = stats.data?.stats;
  return (
    <>
      <PageHeader title={`Dashboard · ${app}`}>
        <label>
          Range{' '}
          <select value={range} onChange={(e) => setRange(Number(e.target.value))}>
            <option value={7}>7 days</option>
            <option value={30}>30 days</option>
            <option value={90}>90 days</option>
          </select>
        </label>
      </PageHeader>
      {stats.loading && !s ? <Loading /> : null}
      <ErrorBox error={stats.error} />
      {s ? (
        <div className="dashboard">
          <section className="card wide" aria-labelledby="d-signins">
            <h2 id="d-signins">Sign-ins per day</h2>
            <SignInChart days={s.days} />
          </section>
          <section className="card" aria-labelledby="d-tokens">
            <h2 id="d-tokens">Tokens issued per grant</h2>
            <GrantBars grants={s.tokensIssued} />
          </section>
          <section className="card" aria-labelledby="d-webhooks">
            <h2 id="d-webhooks">Webhook success rate</h2>
            <Ring rate={s.webhooks.successRate} />
            <p>
              {s.webhooks.succeeded} succeeded · {s.webhooks.failed} failed · {s.webhooks.pending} pending
            </p>
          </section>
          <section className="card" aria-labelledby="d-sessions">
            <h2 id="d-sessions">Active sessions</h2>
            <p className="big-number">{s.activeSessions}</p>
          </section>
        </div>
      ) : null}
    </>
  );
}

// The status page's stylesheet (inline, hashed in the CSP). Classes only: no style attributes anywhere.
// Readable from a 360 px phone to a laptop: cards wrap in an auto-fit grid, wide tables scroll sideways on a
// laptop and stack their cells on a phone (long attempt lines wrap, a client's meters shrink to the width).
export const PAGE_STYLE = `
:root{--bg:#f6f7f9;--card:#fff;--fg:#1b1f24;--muted:#5f6b7a;--line:#dde1e6;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--accent:#0969da;--hi:#fff8c5}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b22;--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;--ok:#3fb950;--warn:#d29922;--bad:#f85149;--accent:#4493f8;--hi:#3b2e00}}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;padding:.75rem 1rem;border-bottom:1px solid var(--line);background:var(--card);position:sticky;top:0;z-index:1}
h1{font-size:1.15rem;margin:0}
h2{font-size:1rem;margin:1.25rem 0 .5rem}
h3{font-size:.95rem;margin:0;word-break:break-all}
main,form#login{padding:0 1rem 2rem;max-width:1400px;margin:0 auto}
form#login{display:flex;flex-direction:column;gap:.5rem;max-width:26rem;margin-top:2rem}
input[type=password]{font:inherit;padding:.5rem;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--fg)}
button{font:inherit;padding:.35rem .8rem;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--fg);cursor:pointer}
button:hover{border-color:var(--accent)}
button.danger{color:var(--bad)}
button.link{border:0;background:none;color:var(--accent);padding:0;margin-left:auto}
.check{display:flex;align-items:center;gap:.4rem;color:var(--muted)}
.muted{color:var(--muted);font-weight:normal}
.error{color:var(--bad);min-height:1em;margin:.25rem 0}
.pill{display:inline-block;padding:.05rem .55rem;border-radius:999px;border:1px solid var(--line);font-size:.8rem;white-space:nowrap}
.pill.ok{color:var(--ok);border-color:var(--ok)}
.pill.warn{color:var(--warn);border-color:var(--warn)}
.pill.bad{color:var(--bad);border-color:var(--bad)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,330px),1fr));gap:.75rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.75rem;min-width:0}
.card-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:.25rem .6rem;margin-bottom:.5rem}
.member{display:grid;grid-template-columns:1fr auto;gap:.1rem .5rem;padding:.4rem 0;border-top:1px solid var(--line)}
.member .id{font-weight:600;word-break:break-all}
.member .why{grid-column:1/-1;color:var(--muted);font-size:.85rem;word-break:break-word}
.member .acts{grid-row:1/3;grid-column:2;align-self:center;display:flex;gap:.4rem;align-items:center}
.chart{display:grid;grid-template-columns:6.5rem 1fr 4.5rem;align-items:center;gap:.5rem;margin:.2rem 0}
.chart .val{text-align:right;font-variant-numeric:tabular-nums}
svg.spark{width:100%;height:34px;display:block;background:var(--bg);border-radius:4px}
svg.spark polyline{fill:none;stroke-width:1.5;vector-effect:non-scaling-stroke}
svg.spark .req{stroke:var(--accent)}
svg.spark .err{stroke:var(--bad)}
svg.spark .lat{stroke:var(--warn)}
.scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;min-width:36rem}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.8rem;color:var(--muted);font-weight:600}
td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.usage.bad{color:var(--bad)}
.usage.warn{color:var(--warn)}
tr.failover td{background:var(--hi)}
tr.failed td:first-child{box-shadow:inset 3px 0 var(--bad)}
.attempt{display:block;white-space:nowrap}
.attempt.fail{color:var(--bad)}
.attempt.ok{color:var(--ok)}
meter{width:7rem;vertical-align:middle}
.usage{display:inline-flex;align-items:center;gap:.35rem;margin:0 1rem .2rem 0;white-space:nowrap}
.empty{color:var(--muted);padding:.6rem}
@media (max-width:600px){body{font-size:15px}header{padding:.6rem .75rem}main,form#login{padding:0 .6rem 2rem}.chart{grid-template-columns:5.5rem 1fr 4rem}.scroll table,.scroll tbody,.scroll tr,.scroll td{display:block;min-width:0}.scroll thead{display:none}.scroll tr{border-bottom:1px solid var(--line);padding:.3rem 0}.scroll td{border:0;padding:.1rem .6rem}.scroll td:first-child{font-weight:600}.attempt{white-space:normal;overflow-wrap:anywhere}.limits .usage{display:flex;margin-right:0}.limits meter{flex:1 1 3rem;width:auto;min-width:2rem}}
`;

package ui

// pageHTML is the whole page. It loads no resource from outside Tollgate.
const pageHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Tollgate chargeback</title>
<link rel="stylesheet" href="/ui/chargeback/style.css">
</head>
<body>
<h1>Chargeback</h1>
<p class="who" id="who">{{.Who}}</p>
<form method="get" action="/ui/chargeback">
  <input type="hidden" name="submitted" value="1">
  <label>Window
    <select name="window" id="window">{{range .Windows}}<option value="{{.}}"{{if eq . $.Window}} selected{{end}}>{{.}}</option>{{end}}</select>
  </label>
  <label>Group by
    <select name="aggregate" id="aggregate">{{range .Aggregations}}<option value="{{.}}"{{if eq . $.Aggregate}} selected{{end}}>{{.}}</option>{{end}}</select>
  </label>
  <label class="check"><input type="checkbox" name="shareIdle" value="true"{{if .ShareIdle}} checked{{end}}> share idle</label>
  <label class="check"><input type="checkbox" name="shareNamespaces" value="true"{{if .ShareNamespaces}} checked{{end}}> share platform namespaces</label>
  <button type="submit">Show</button>
</form>
{{if .Error}}<p class="error" id="error">{{.Error}}</p>{{else}}
<p id="window-range">{{.From}} to {{.To}}, in {{.Currency}}. Total <strong id="total">{{money .Total.Total}}</strong>.</p>
<div class="chart"><canvas id="chart" aria-label="Cost per {{.Aggregate}} over time" role="img"></canvas></div>
<script type="application/json" id="chart-data">{{.Chart}}</script>
<table id="allocations">
<thead><tr><th>{{.Aggregate}}</th><th>CPU</th><th>RAM</th><th>GPU</th><th>Idle</th><th>Shared</th><th>Total</th><th>CPU eff.</th><th>RAM eff.</th><th>Total eff.</th></tr></thead>
<tbody>
{{range .Rows}}<tr{{if .Idle}} class="idle"{{end}} data-name="{{.Name}}"><td>{{.Name}}</td><td>{{money .CPU}}</td><td>{{money .RAM}}</td><td>{{money .GPU}}</td><td>{{money .IdleCost}}</td><td>{{money .Shared}}</td><td class="total">{{money .Total}}</td>{{if .HasEff}}<td>{{pct .CPUEff}}</td><td>{{pct .RAMEff}}</td><td>{{pct .TotalEff}}</td>{{else}}<td></td><td></td><td></td>{{end}}</tr>
{{end}}</tbody>
<tfoot><tr><td>Total</td><td>{{money .Total.CPU}}</td><td>{{money .Total.RAM}}</td><td>{{money .Total.GPU}}</td><td>{{money .Total.IdleCost}}</td><td>{{money .Total.Shared}}</td><td>{{money .Total.Total}}</td><td></td><td></td><td></td></tr></tfoot>
</table>
<p class="downloads">Download: <a id="download-csv" href="{{.CSV}}" download>CSV</a><a id="download-focus" href="{{.FOCUS}}" download>FOCUS 1.2 CSV (daily)</a></p>
<p class="note">Each container costs max(request, usage) of CPU and RAM, and its GPU requests, at its node's price; idle is what the nodes cost beyond that{{if .ShareIdle}}, shared in proportion to cost and included in CPU, RAM and GPU (the Idle column shows the part){{end}}{{if .Shared}}; {{.Shared}}{{end}}. Total = CPU + RAM + GPU + Shared. Efficiency is usage / request.</p>
{{end}}
<script src="/ui/chargeback/chart.umd.min.js"></script>
<script src="/ui/chargeback/chargeback.js"></script>
</body>
</html>
`

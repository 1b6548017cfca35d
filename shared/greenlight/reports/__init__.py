"""Reports: the weekly figures, the weekly digest and its page (docs/reports.md).

`weeks` (ISO weeks in the team's time zone), `weekly` (every weekly figure, computed from the stored
snapshots, results, requests and decisions by one function), `digest` (the mail, the page, the CSV
and the lead's note). Pure where it can be: storage and mail are passed in."""

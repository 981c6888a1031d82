"""The outputs: plots, the HTML report, policy files and the dashboard; they draw and write
what the analysis computed."""

"""`cxw bench`: speed, memory and scaling scenarios (JSON + a Markdown table)."""

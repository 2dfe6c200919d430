"""The template language and its two outputs: Go templates for the chart, concrete objects."""

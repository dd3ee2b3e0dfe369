"""Reads a directory's TensorBoard event files with the real tensorboard package (EventAccumulator, which checks each
record's CRCs) and prints {tag: [[step, value], ...]} as JSON. usage: read_tfevents.py <dir>"""
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
acc.Reload()
print(json.dumps({tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}))

"""Adapters for model families users export themselves: Ultralytics YOLO detection, anomalib anomaly.

Each adapter checks a model's input/output signature at load (ModelError with the reason) and turns
an image crop into findings in that crop's pixels; the tools map them to frame pixels and verdicts.
"""

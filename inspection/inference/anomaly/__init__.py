"""Anomaly detection learnt from good parts only (PatchCore-class, CPU): fit, score, save, load.

settings.py holds every knob (stored in the model file); preprocess.py sizes images for the
backbone; features.py turns feature maps into patch features (and learns their projection);
tiling.py cuts large images into tiles; coreset.py picks the memory bank;
model.py scores; calibration.py sets the threshold; fit.py teaches; model_file.py saves and loads.
"""

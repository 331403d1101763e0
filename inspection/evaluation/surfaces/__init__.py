"""A second development set for the defect tool: other industries' surfaces, generated."""

from inspection.evaluation.surfaces.defects import DEFECTS, draw_defect
from inspection.evaluation.surfaces.folder import MATERIAL_SETS, write_surface_set
from inspection.evaluation.surfaces.textures import MATERIALS, surface

__all__ = ["DEFECTS", "MATERIALS", "MATERIAL_SETS", "draw_defect", "surface", "write_surface_set"]

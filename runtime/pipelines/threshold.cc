// fit_threshold (edgegen/density.h): the one definition of the anomaly
// threshold, shared by the command line's --fit-threshold and the C API.
#include <algorithm>
#include <cmath>

#include "edgegen/density.h"

namespace edgegen {

Result<double> fit_threshold(float* scores, size_t count, double fpr) {
  if (scores == nullptr || count == 0)
    return Status::error(StatusCode::kInvalidArgument, "fit_threshold: no scores to fit on");
  if (!(fpr >= 0.0 && fpr <= 1.0))
    return Status::error(StatusCode::kInvalidArgument, "fit_threshold: fpr %g is outside [0, 1]", fpr);
  for (size_t i = 0; i < count; ++i)
    if (std::isnan(scores[i]))
      return Status::error(StatusCode::kInvalidArgument, "fit_threshold: score %zu is NaN", i);
  std::sort(scores, scores + count);
  size_t index = static_cast<size_t>(std::floor(fpr * static_cast<double>(count)));
  if (index >= count) index = count - 1;
  return static_cast<double>(scores[index]);
}

}  // namespace edgegen

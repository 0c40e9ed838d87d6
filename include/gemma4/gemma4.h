// gemma4: a readable, header-only C++ reference implementation of Gemma 4.
//
// Include this header. In exactly one translation unit of your program, define
// GEMMA4_IMPLEMENTATION first: that instantiates the Highway SIMD kernels (see kernels.h).
//
//   gemma4::Model model = gemma4::Model::load("path/to/checkpoint");
//   gemma4::Kernels k = gemma4::select_kernels(gemma4::Backend::kHighway);
//   gemma4::KVCache cache(model.text());
//   gemma4::Activations act;
//   gemma4::forward(model, ids.data(), ids.size(), cache, act, k);   // act.logits: [n, vocab]
#pragma once

#include "gemma4/audio_encoder.h"
#include "gemma4/audio_features.h"
#include "gemma4/audio_file.h"
#include "gemma4/clippable_linear.h"
#include "gemma4/config.h"
#include "gemma4/error.h"
#include "gemma4/image_processor.h"  // compiles stb_image where GEMMA4_IMPLEMENTATION is defined
#include "gemma4/kernels.h"
#include "gemma4/model.h"
#include "gemma4/multimodal.h"
#include "gemma4/safetensors.h"
#include "gemma4/synthetic_weights.h"
#include "gemma4/video.h"
#include "gemma4/vision_tower.h"
#include "gemma4/weights.h"
#include "gemma4/highway_dispatch.h"  // instantiates the kernels if GEMMA4_IMPLEMENTATION is defined

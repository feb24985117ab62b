// seqjit-constants-to-device: a constant buffer the host code hands to a kernel (here a DFT matrix's stand-in) is
// copied to a device allocation first, which the kernel gets instead and which is freed before the return.
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-constants-to-device))" | FileCheck %s

// CHECK-LABEL: func.func @scale_by_constant
// CHECK: %[[HOST:.*]] = memref.get_global @weights : memref<4xf32>
// CHECK-NEXT: %[[DEVICE:.*]] = memref.alloc() : memref<4xf32>
// CHECK-NEXT: gpu.memcpy  %[[DEVICE]], %[[HOST]] : memref<4xf32>, memref<4xf32>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[DEVICE]] : memref<4xf32>, memref<4xf32>)
// CHECK: memref.dealloc %[[DEVICE]] : memref<4xf32>
// CHECK-NEXT: return
memref.global "private" constant @weights : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @scale_by_constant(%x: memref<4xf32>, %y: memref<4xf32>) {
  %w = memref.get_global @weights : memref<4xf32>
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                  iterator_types = ["parallel"]}
      ins(%x, %w : memref<4xf32>, memref<4xf32>) outs(%y : memref<4xf32>) {
  ^bb0(%a: f32, %b: f32, %unused: f32):
    %p = arith.mulf %a, %b : f32
    linalg.yield %p : f32
  }
  return
}

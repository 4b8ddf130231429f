// A small CUDA program for scripts/gpu-check.sh: names the device, allocates device memory,
// runs a kernel (y[i] = a*x[i] + y[i]), copies the result back and checks every element.
// Built with `nvcc -cudart static`, so the container needs only the driver's libcuda.so.1.
#include <cstdio>
#include <cuda_runtime.h>

__global__ void saxpy(int n, float a, const float *x, float *y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}

#define CHECK(call)                                                                     \
    do {                                                                                \
        cudaError_t e = (call);                                                         \
        if (e != cudaSuccess) {                                                         \
            std::printf("cuda-check: %s failed: %s (%s)\n", #call, cudaGetErrorName(e), \
                        cudaGetErrorString(e));                                         \
            return 1;                                                                   \
        }                                                                               \
    } while (0)

int main() {
    int driver = 0, runtime = 0, count = 0;
    CHECK(cudaDriverGetVersion(&driver));
    CHECK(cudaRuntimeGetVersion(&runtime));
    CHECK(cudaGetDeviceCount(&count));
    cudaDeviceProp prop;
    CHECK(cudaGetDeviceProperties(&prop, 0));
    std::printf("cuda-check: %d device(s); device 0: %s, sm_%d%d, %zu MiB; driver API %d, runtime %d\n",
                count, prop.name, prop.major, prop.minor, prop.totalGlobalMem >> 20, driver, runtime);

    const int n = 1 << 24;  // 16 Mi floats, 64 MiB per array
    static float x[1 << 24], y[1 << 24];
    for (int i = 0; i < n; i++) { x[i] = float(i % 1000); y[i] = 1.0f; }
    float *dx = nullptr, *dy = nullptr;
    CHECK(cudaMalloc(&dx, n * sizeof(float)));
    CHECK(cudaMalloc(&dy, n * sizeof(float)));
    CHECK(cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(dy, y, n * sizeof(float), cudaMemcpyHostToDevice));
    saxpy<<<(n + 255) / 256, 256>>>(n, 2.0f, dx, dy);
    CHECK(cudaGetLastError());
    CHECK(cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost));
    CHECK(cudaFree(dx));
    CHECK(cudaFree(dy));
    long bad = 0;
    double sum = 0, wantSum = 0;
    for (int i = 0; i < n; i++) {
        float want = 2.0f * float(i % 1000) + 1.0f;
        if (y[i] != want) bad++;
        sum += y[i];
        wantSum += want;
    }
    std::printf("cuda-check: saxpy over %d elements: %ld wrong, sum %.0f (expected %.0f)\n", n, bad, sum, wantSum);
    if (bad != 0) return 1;
    std::printf("cuda-check: OK\n");
    return 0;
}
